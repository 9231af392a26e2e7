"""Beat on several nodes: only the one holding the Redis lease runs the schedule, and a
standby takes over when the holder stops renewing (kaunti.core.beat, ADR 18)."""

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery
from django.conf import settings

from kaunti.core.beat import LEASE_KEY, LeasedScheduler

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis (REDIS_URL)")

LEASE_SECONDS = 0.6


@pytest.fixture
def app() -> Celery:
    app = Celery("beat-lease-test", broker="memory://", set_as_current=False)
    app.conf.beat_schedule = {"sweep": {"task": "sweep", "schedule": 0.05}}
    return app


@pytest.fixture
def lease() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(LEASE_KEY)
    yield client
    client.delete(LEASE_KEY)


class CountingScheduler(LeasedScheduler):
    """Counts the entries it would send instead of sending them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.sent: list[str] = []
        super().__init__(*args, **kwargs)

    def apply_entry(self, entry: Any, producer: Any = None) -> None:
        self.sent.append(entry.name)
        entry.last_run_at = self.app.now()  # as apply_async's reserve() would record

    @property
    def producer(self) -> None:
        return None


def node(app: Celery, tmp_path: Path, name: str) -> CountingScheduler:
    return CountingScheduler(
        app,
        schedule_filename=str(tmp_path / f"{name}-schedule"),
        lease_seconds=LEASE_SECONDS,
    )


def tick_until(scheduler: CountingScheduler, condition: Any, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        scheduler.tick()
        time.sleep(0.06)


def test_only_the_lease_holder_runs_the_schedule_and_a_standby_takes_over(
    app: Celery, tmp_path: Path, lease: redis.Redis
) -> None:
    first, second = node(app, tmp_path, "first"), node(app, tmp_path, "second")

    # Both tick for a while; the first to ask holds the lease and only it sends work.
    for _ in range(8):
        first.tick()
        second.tick()
        time.sleep(0.06)
    assert first.holds_lease
    assert first.sent
    assert not second.holds_lease
    assert second.sent == []
    assert lease.get(LEASE_KEY) == first.token.encode()
    # A standby waits a third of the lease between tries.
    assert second.tick() == pytest.approx(LEASE_SECONDS / 3)

    # The holder stops renewing (a node that hung or lost its network): once its lease
    # expires, the standby takes it and runs the schedule.
    sent_by_first = len(first.sent)
    tick_until(second, lambda: bool(second.sent))
    assert second.holds_lease
    assert lease.get(LEASE_KEY) == second.token.encode()

    # The old holder comes back: it finds the lease taken and stands by.
    first.tick()
    assert not first.holds_lease
    assert len(first.sent) == sent_by_first
    first.close()
    second.close()


def test_a_beat_that_stops_hands_the_lease_over_at_once(
    app: Celery, tmp_path: Path, lease: redis.Redis
) -> None:
    first, second = node(app, tmp_path, "first"), node(app, tmp_path, "second")
    first.tick()
    assert first.holds_lease

    first.close()  # what `celery beat` does as it shuts down

    assert lease.get(LEASE_KEY) is None
    second.tick()
    assert second.holds_lease
    second.close()


def test_without_redis_beat_ticks_as_celerys_own(app: Celery, tmp_path: Path) -> None:
    single = CountingScheduler(app, schedule_filename=str(tmp_path / "single"), redis_url="")
    for _ in range(3):
        single.tick()
        time.sleep(0.06)
    assert single.sent
    assert not single.holds_lease
    single.close()
