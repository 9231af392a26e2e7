"""Events of the history in time order: each runs with the demo clock set to its moment."""

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from kaunti.core.services.audit import audited_transaction
from kaunti.demo.history.clock import DemoClock


@dataclass
class Timeline:
    """A queue of things to do at given moments; an event may add later ones."""

    clock: DemoClock
    end: datetime
    _queue: list[tuple[datetime, int, Callable[[], object]]] = field(default_factory=list)
    _count: int = 0

    def at(self, when: datetime, action: Callable[[], object]) -> None:
        """Do `action` at `when`, unless that is after the history ends (it has not
        happened yet: the bill is still open, the step still waiting)."""
        if when <= self.end:
            self._count += 1  # ties run in the order they were added
            heapq.heappush(self._queue, (when, self._count, action))

    def run(self) -> None:
        """Each event in its own block inside the history's one transaction, as it would be
        its own transaction in a live county: its audit events join the chain at its end,
        after every other lock it took (ADR 16)."""
        while self._queue:
            when, _order, action = heapq.heappop(self._queue)
            self.clock.set(when)
            with audited_transaction():
                action()


def draw(rng: random.Random, expected: float) -> int:
    """A whole number of events that averages `expected`."""
    whole = int(expected)
    return whole + (1 if rng.random() < expected - whole else 0)
