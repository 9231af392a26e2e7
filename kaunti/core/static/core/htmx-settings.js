// Runs after htmx.min.js and before htmx starts (DOMContentLoaded). The page's
// Content-Security-Policy allows no inline <style>, so htmx must not insert its own.
htmx.config.includeIndicatorStyles = false;
