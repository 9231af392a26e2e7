"""Maintenance mode: while an upgrade runs, every request is answered 503 with a page in
both languages, except the health checks and Safaricom's callbacks (ADR 22).

The flag is kept where every app node sees it: in the cache when Redis is configured
(one Redis for all nodes) and in a file under `VAR_DIR` (the single-node default, and a
record that survives a Redis restart). It is on when either says so. `manage.py
maintenance on|off|status` and `manage.py upgrade` switch it.

Each process looks at the flag at most once every `MAINTENANCE_CHECK_SECONDS`, so a
request costs a clock read, not a Redis round trip; the upgrade waits that long after
switching the flag on before it changes anything.

Safaricom's callbacks reach their views through the WSGI lane (`kaunti.payments.lane`,
ADR 8), below this middleware, so they are stored during maintenance whatever it says;
their views are marked `open_during_maintenance` too, so that a server without the lane
(the test client) treats them alike. Each callback's storing is what makes it safe: one
that meets a table locked by a migration waits, or is answered 503 and sent again.
"""

import json
import logging
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.urls import Resolver404, resolve
from django.utils import timezone, translation
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

CACHE_KEY = "maintenance"
BYPASS_HEADER = "X-Kaunti-Maintenance-Bypass"
PROBLEM_CONTENT_TYPE = "application/problem+json"

View = TypeVar("View", bound=Callable[..., HttpResponse])


@dataclass(frozen=True)
class MaintenanceState:
    """Why and since when the site is in maintenance; `bypass_token` lets the upgrade's
    own smoke checks through (sent as the `X-Kaunti-Maintenance-Bypass` header)."""

    since: str
    reason: str
    by: str
    bypass_token: str
    retry_after: int


def open_during_maintenance(view: View) -> View:
    """Marks a view answered during maintenance (health checks, machine callbacks). Like
    `csrf_exempt`, the mark is an attribute that `functools.wraps` carries outward."""
    view.open_during_maintenance = True  # type: ignore[attr-defined]
    return view


def _flag_file() -> Path:
    return Path(settings.MAINTENANCE_FLAG_FILE)


def _uses_shared_cache() -> bool:
    return bool(settings.REDIS_URL)


def _parse(raw: Any) -> MaintenanceState | None:
    if isinstance(raw, (str, bytes)):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = None
    if not isinstance(raw, dict):
        return None
    try:
        return MaintenanceState(**raw)
    except TypeError:
        # A flag from another version: still on, with what can be read of it.
        return MaintenanceState(
            since=str(raw.get("since", "")),
            reason=str(raw.get("reason", "")),
            by=str(raw.get("by", "")),
            bypass_token=str(raw.get("bypass_token", "")),
            retry_after=int(raw.get("retry_after", settings.MAINTENANCE_RETRY_AFTER_SECONDS)),
        )


def _read_file() -> MaintenanceState | None:
    path = _flag_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError:
        logger.warning("cannot read the maintenance flag file %s", path, exc_info=True)
        return None
    # An unreadable flag file still means maintenance: someone put it there.
    return _parse(text) or MaintenanceState(
        "", "", "", "", settings.MAINTENANCE_RETRY_AFTER_SECONDS
    )


def _read_cache() -> MaintenanceState | None:
    if not _uses_shared_cache():
        return None
    try:
        raw = cache.get(CACHE_KEY)
    except (RedisError, OSError):  # Redis down: the file still answers
        logger.warning("cannot read the maintenance flag from the cache", exc_info=True)
        return None
    return _parse(raw) if raw is not None else None


def current_state() -> MaintenanceState | None:
    """The maintenance flag as stored now (the cache first), or None when the site is open."""
    return _read_cache() or _read_file()


_memo: tuple[float, MaintenanceState | None] = (float("-inf"), None)


def state_for_request() -> MaintenanceState | None:
    """`current_state()`, looked at once every `MAINTENANCE_CHECK_SECONDS` per process."""
    global _memo
    now = time.monotonic()
    checked_at, state = _memo
    if now - checked_at >= settings.MAINTENANCE_CHECK_SECONDS:
        state = current_state()
        _memo = (now, state)
    return state


def _forget_memo() -> None:
    global _memo
    _memo = (float("-inf"), None)


def switch_on(*, reason: str, by: str) -> MaintenanceState:
    """Turn maintenance on (in the file, and in the cache when Redis is configured).
    Already on, the state is kept (its bypass token too) and returned."""
    existing = current_state()
    if existing is not None and existing.bypass_token:
        _write(existing)
        return existing
    state = MaintenanceState(
        since=timezone.now().isoformat(timespec="seconds"),
        reason=reason,
        by=by,
        bypass_token=secrets.token_urlsafe(24),
        retry_after=settings.MAINTENANCE_RETRY_AFTER_SECONDS,
    )
    _write(state)
    return state


def _write(state: MaintenanceState) -> None:
    text = json.dumps(asdict(state))
    path = _flag_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.chmod(temporary, 0o600)  # the bypass token is in it
    temporary.replace(path)
    if _uses_shared_cache():
        cache.set(CACHE_KEY, text, timeout=None)
    _forget_memo()


def switch_off() -> None:
    """Open the site again: remove the flag from the cache and the file."""
    if _uses_shared_cache():
        cache.delete(CACHE_KEY)
    _flag_file().unlink(missing_ok=True)
    _forget_memo()


def _is_open_path(request: HttpRequest) -> bool:
    if request.path_info.startswith(settings.STATIC_URL):
        return True
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return False
    return bool(getattr(match.func, "open_during_maintenance", False))


def _has_bypass(request: HttpRequest, state: MaintenanceState) -> bool:
    offered = request.headers.get(BYPASS_HEADER, "")
    return bool(state.bypass_token) and secrets.compare_digest(offered, state.bypass_token)


def maintenance_response(request: HttpRequest, state: MaintenanceState) -> HttpResponse:
    """503 with Retry-After: a problem document under /api/, else the page in both
    languages, the caller's first (this runs before `LocaleMiddleware`)."""
    first = translation.get_language_from_request(request) or settings.LANGUAGE_CODE
    languages = [first] + [code for code, _name in settings.LANGUAGES if code != first]
    response: HttpResponse
    if request.path_info.startswith("/api/"):
        with translation.override(first):
            detail = translation.gettext(
                "Kaunti is being upgraded. Please try again in a few minutes."
            )
        response = JsonResponse(
            {
                "type": "about:blank",
                "title": "Service Unavailable",
                "status": 503,
                "detail": detail,
            },
            status=503,
            content_type=PROBLEM_CONTENT_TYPE,
        )
    else:
        with translation.override(first):
            page = loader.get_template("core/maintenance.html").render(
                {"languages": languages, "retry_minutes": max(1, state.retry_after // 60)}
            )
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(state.retry_after)
    response["Cache-Control"] = "no-store"
    return response


class MaintenanceModeMiddleware:
    """While maintenance is on, answers 503 to everything but the views marked
    `open_during_maintenance`, static files and the upgrade's own checks. Early in the
    list (after `SecurityMiddleware`): no session, user or database is touched."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        state = state_for_request()
        if state is None or _has_bypass(request, state) or _is_open_path(request):
            return self.get_response(request)
        return maintenance_response(request, state)
