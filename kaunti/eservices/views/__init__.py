"""The e-services pages: each module lists its own URL patterns."""
