"""Fixed-window rate limits kept in the cache (Redis when configured, so all nodes agree)."""

import hashlib

from django.core.cache import cache


def _key(scope: str, identity: str) -> str:
    digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
    return f"ratelimit:{scope}:{digest}"


def allow(*, scope: str, identity: str, limit: int, window_seconds: int) -> bool:
    """Count one hit; False once `identity` has used its `limit` hits in the window."""
    key = _key(scope, identity)
    # add() is a no-op if the window is already open; incr() is atomic in Redis.
    cache.add(key, 0, timeout=window_seconds)
    try:
        hits = cache.incr(key)
    except ValueError:  # the window expired between add() and incr()
        cache.set(key, 1, timeout=window_seconds)
        hits = 1
    return hits <= limit


def reset(*, scope: str, identity: str) -> None:
    cache.delete(_key(scope, identity))
