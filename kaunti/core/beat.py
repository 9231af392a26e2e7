"""Celery beat that runs the schedule once across several app nodes (ADR 18).

Every node may start `celery beat`; with Redis configured (REDIS_URL), a beat ticks only
while it holds a lease: a Redis key holding its own token, set with an expiry and renewed
on every tick. The others wait as standbys, trying for the lease every few seconds; when
the holder stops (crashed, stopped, cut off from Redis) its lease expires and one of them
takes over. Without Redis there is one node, and beat ticks as Celery's own does.

Each beat keeps its own schedule file (when each entry last ran), as PersistentScheduler
does; a standby that takes over runs at once what is due by its file, which for the
county's jobs (idempotent sweeps, an idempotent monthly run) is harmless.
"""

import logging
import uuid
from typing import Any

import redis
from celery.beat import PersistentScheduler
from django.conf import settings

logger = logging.getLogger(__name__)

LEASE_KEY = "kaunti:beat:lease"

# Take the lease when free, or renew it when it is ours: one atomic step in Redis.
_ACQUIRE_OR_RENEW = """
local holder = redis.call('get', KEYS[1])
if holder == ARGV[1] then
    redis.call('pexpire', KEYS[1], ARGV[2])
    return 1
end
if holder == false then
    redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 1
end
return 0
"""
# Give the lease up only if it is still ours.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


class LeasedScheduler(PersistentScheduler):
    """PersistentScheduler that ticks only while it holds the Redis lease (when configured)."""

    def __init__(
        self,
        *args: Any,
        redis_url: str | None = None,
        lease_seconds: float | None = None,
        **kwargs: Any,
    ) -> None:
        url = settings.REDIS_URL if redis_url is None else redis_url
        self.lease_seconds = float(lease_seconds or settings.BEAT_LEASE_SECONDS)
        self.token = str(uuid.uuid4())
        self.holds_lease = False
        self._redis = redis.Redis.from_url(url) if url else None
        super().__init__(*args, **kwargs)

    @property
    def renew_every(self) -> float:
        """How long a tick may sleep: a third of the lease, so two renewals can fail first."""
        return self.lease_seconds / 3

    def _acquire_or_renew(self) -> bool:
        assert self._redis is not None
        try:
            held = bool(
                self._redis.eval(
                    _ACQUIRE_OR_RENEW, 1, LEASE_KEY, self.token, str(int(self.lease_seconds * 1000))
                )
            )
        except redis.RedisError as exc:
            # Unsure whether we still hold it: stand by, so no two nodes run the schedule.
            logger.warning("beat lease: Redis unreachable (%s); standing by", exc)
            held = False
        if held != self.holds_lease:
            logger.warning(
                "beat lease %s: this beat now %s",
                LEASE_KEY,
                "runs the schedule" if held else "stands by",
            )
        self.holds_lease = held
        return held

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if self._redis is None:
            return float(super().tick(*args, **kwargs))
        if not self._acquire_or_renew():
            return self.renew_every
        return min(float(super().tick(*args, **kwargs)), self.renew_every)

    def release(self) -> None:
        """Give the lease up now (on shutdown), so a standby need not wait for it to expire."""
        if self._redis is None or not self.holds_lease:
            return
        try:
            self._redis.eval(_RELEASE, 1, LEASE_KEY, self.token)
        except redis.RedisError as exc:
            logger.warning("beat lease: could not release (%s); it expires by itself", exc)
        self.holds_lease = False

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.release()
