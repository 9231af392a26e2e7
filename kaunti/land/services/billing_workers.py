"""Billing a run's chunks: handed out in parcel order to this thread or to `workers`
threads at once, each chunk in one transaction on its thread's own connection, retried
when a drawn bill number was taken (see `billing` for the run, `billing_chunks` and
`billing_sql` for a chunk).
"""

import queue
import threading
from collections.abc import Callable
from functools import partial

from django.db import IntegrityError, connection, transaction

from kaunti.land.models import BillingRun
from kaunti.land.services.billing_chunks import (
    BillingContext,
    ChunkResult,
    bill_chunk_orm,
    chunk_end,
)
from kaunti.land.services.billing_sql import bill_chunk_postgresql, postgres_plan
from kaunti.payments.services.bills import QueryPlan

_MAX_ATTEMPTS = 5


class Chunks:
    """Hands out a run's chunks in parcel order, to one or several workers, and knows the
    resume point: the last parcel below which every chunk handed out has committed."""

    def __init__(self, ctx: BillingContext, *, after_id: int, size: int) -> None:
        self._ctx = ctx
        self._size = size
        self._lock = threading.Lock()
        self._next_after = after_id
        self._watermark = after_id
        self._pending: list[int] = []  # last ids of the chunks handed out, not committed
        self._committed: set[int] = set()
        self._stopped = False

    def take(self) -> tuple[int, int] | None:
        """The next chunk's (after_id, last_id), or None when the roll is done or stopped."""
        with self._lock:
            if self._stopped:
                return None
            last_id = chunk_end(roll=self._ctx.roll, after_id=self._next_after, size=self._size)
            if last_id is None:
                self._stopped = True
                return None
            bounds = (self._next_after, last_id)
            self._next_after = last_id
            self._pending.append(last_id)
            return bounds

    def watermark_with(self, last_id: int) -> int:
        """The resume point once the chunk ending at `last_id` commits too."""
        with self._lock:
            watermark = self._watermark
            for pending in self._pending:
                if pending != last_id and pending not in self._committed:
                    break
                watermark = pending
            return watermark

    def committed(self, last_id: int) -> None:
        with self._lock:
            self._committed.add(last_id)
            while self._pending and self._pending[0] in self._committed:
                self._watermark = self._pending.pop(0)
                self._committed.discard(self._watermark)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True

    @property
    def resume_point(self) -> int:
        with self._lock:
            return self._watermark


def _bill_chunk(
    ctx: BillingContext,
    run: BillingRun,
    chunks: Chunks,
    plan: QueryPlan | None,
    bounds: tuple[int, int],
    size: int,
) -> ChunkResult:
    """Bill one chunk in one transaction on this thread's connection. A bill-number
    collision rolls the chunk back; it is drawn again."""
    after_id, last_id = bounds
    for attempt in range(_MAX_ATTEMPTS):
        try:
            with transaction.atomic():
                watermark = partial(chunks.watermark_with, last_id)
                if plan is not None:
                    result = bill_chunk_postgresql(
                        ctx, run, plan, after_id=after_id, last_id=last_id,
                        at_most=size, watermark=watermark,
                    )  # fmt: skip
                else:
                    result = bill_chunk_orm(
                        ctx, run, after_id=after_id, last_id=last_id, watermark=watermark
                    )
            chunks.committed(last_id)
            return result
        except IntegrityError:
            if attempt == _MAX_ATTEMPTS - 1:
                raise
    raise IntegrityError("could not bill the chunk")


_FINISHED = object()


def _work(
    ctx: BillingContext,
    run: BillingRun,
    chunks: Chunks,
    plan: QueryPlan,
    size: int,
    results: "queue.Queue[object]",
) -> None:
    """A worker thread: bill chunks until none is left, on its own connection."""
    try:
        while (bounds := chunks.take()) is not None:
            results.put(_bill_chunk(ctx, run, chunks, plan, bounds, size))
    except BaseException as exc:  # noqa: BLE001  (handed to the coordinating thread)
        chunks.stop()
        results.put(exc)
    finally:
        connection.close()
        results.put(_FINISHED)


def run_chunks(
    ctx: BillingContext,
    run: BillingRun,
    chunks: Chunks,
    *,
    size: int,
    workers: int,
    report: Callable[[ChunkResult], None],
) -> None:
    """Bill every chunk, on this thread or on `workers` threads; `report` each committed
    chunk here. The first error stops the handing out; chunks in flight finish."""
    if workers <= 1 or connection.vendor != "postgresql":
        plan = postgres_plan(ctx, run) if connection.vendor == "postgresql" else None
        while (bounds := chunks.take()) is not None:
            report(_bill_chunk(ctx, run, chunks, plan, bounds, size))
        return
    plan = postgres_plan(ctx, run)
    results: queue.Queue[object] = queue.Queue()
    threads = [
        threading.Thread(
            target=_work,
            args=(ctx, run, chunks, plan, size, results),
            name=f"land-billing-{index}",
            daemon=True,
        )
        for index in range(workers)
    ]
    for thread in threads:
        thread.start()
    error: BaseException | None = None
    finished = 0
    try:
        while finished < workers:
            item = results.get()
            if item is _FINISHED:
                finished += 1
            elif isinstance(item, BaseException):
                error = error or item
            elif error is None:
                try:
                    report(item)  # type: ignore[arg-type]
                except BaseException as exc:  # noqa: BLE001  (raised below, once all stop)
                    error = exc
                    chunks.stop()
    finally:
        chunks.stop()
        for thread in threads:
            thread.join()
    if error is not None:
        raise error
