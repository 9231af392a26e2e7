"""The clock the demo history runs under: what `django.utils.timezone.now` answers.

Every service takes "now" from `timezone.now()` (and `timezone.localdate()`, which asks
it), and so do `auto_now_add` fields. To load a year of history through the services
as they are, the loader sets that clock to each moment in turn, so a bill raised in
March says March everywhere: its row, its journal entry, its audit link, its receipt.
Nothing is edited after the fact. The clock is swapped for the loader's own while it
runs (one management command, one thread) and put back, even on error.

Two things keep the real time: fields whose default is the function itself
(`default=timezone.now`, bound when Django started: a user's `date_joined`, a role's
`granted_at`), and anything outside Django's clock (e.g. file times on disk).
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from django.utils import timezone


class DemoClock:
    """A clock that stands still at the moment it is set to."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def set(self, at: datetime) -> None:
        if timezone.is_naive(at):
            raise ValueError("the demo clock takes aware datetimes")
        self._at = at

    def now(self) -> datetime:
        return self._at


@contextmanager
def travelling_clock(at: datetime) -> Iterator[DemoClock]:
    """Make `timezone.now()` answer the demo clock until the block ends."""
    clock = DemoClock(at)
    real_now: Callable[[], datetime] = timezone.now
    timezone.now = clock.now  # the point of this module
    try:
        yield clock
    finally:
        timezone.now = real_now
