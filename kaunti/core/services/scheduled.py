"""Runs of scheduled jobs: what the Celery signals record as each job starts and ends, a
run asked for by hand, and the pruning of old runs (ADR 18).

Which tasks are scheduled jobs is read from `CELERY_BEAT_SCHEDULE`, the one list of them.
A run by the schedule costs one insert (as it starts) and one update (as it ends). A run
by hand is inserted when it is asked for, under a task id that says so (`byhand-...`), and
only updated after that.
"""

import logging
import socket
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from kaunti.core.models import RunOutcome, ScheduledJobRun
from kaunti.core.services import audit, jobs

logger = logging.getLogger(__name__)

BY_HAND_PREFIX = "byhand-"
RESULT_LENGTH = 500


class UnknownScheduledJob(LookupError):
    """No entry of that name in `CELERY_BEAT_SCHEDULE`."""


def entry_for_task(task_name: str) -> str | None:
    """The schedule entry that runs `task_name`, or None when it is not a scheduled job."""
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        if entry["task"] == task_name:
            return str(name)
    return None


def _short(text: Any) -> str:
    return str(text)[:RESULT_LENGTH]


def run_started(*, task_id: str, task_name: str, hostname: str | None) -> None:
    """Record that a scheduled job's task has started (the `task_prerun` signal)."""
    entry_name = entry_for_task(task_name)
    if entry_name is None or not task_id:
        return
    host = (hostname or socket.gethostname())[:200]
    now = timezone.now()
    try:
        if task_id.startswith(BY_HAND_PREFIX):
            ScheduledJobRun.objects.filter(task_id=task_id).update(
                outcome=RunOutcome.RUNNING, hostname=host, started_at=now
            )
            return
        ScheduledJobRun.objects.create(
            task_id=task_id,
            task_name=task_name,
            entry_name=entry_name,
            outcome=RunOutcome.RUNNING,
            hostname=host,
            started_at=now,
        )
    except DatabaseError:
        # The record must never stop the job itself; the job's own log still says it ran.
        logger.exception("could not record the start of %s (%s)", entry_name, task_id)


def run_finished(*, task_id: str, task_name: str, succeeded: bool, result: Any) -> None:
    """Record how a scheduled job's task ended (the `task_postrun` signal)."""
    if not task_id or entry_for_task(task_name) is None:
        return
    text = _short(result if succeeded else f"{type(result).__name__}: {result}")
    try:
        ScheduledJobRun.objects.filter(task_id=task_id).update(
            outcome=RunOutcome.SUCCESS if succeeded else RunOutcome.FAILURE,
            result="" if succeeded and result is None else text,
            finished_at=timezone.now(),
        )
    except DatabaseError:
        logger.exception("could not record the end of %s (%s)", task_name, task_id)


def run_now(*, entry_name: str, actor: Any) -> ScheduledJobRun:
    """Queue the schedule entry `entry_name`'s task now, as `actor` asked, and record it.

    The run is recorded (queued, by hand, by whom) and audited in one transaction; the
    task is queued once that commits, under the run's task id, so the worker's signals
    update this row. Raises `UnknownScheduledJob` for a name not in the schedule.
    """
    entry = settings.CELERY_BEAT_SCHEDULE.get(entry_name)
    if entry is None:
        raise UnknownScheduledJob(entry_name)
    task_name = str(entry["task"])
    task_id = f"{BY_HAND_PREFIX}{uuid.uuid4()}"
    with transaction.atomic():
        run = ScheduledJobRun.objects.create(
            task_id=task_id,
            task_name=task_name,
            entry_name=entry_name,
            outcome=RunOutcome.QUEUED,
            by_hand=True,
            requested_by=actor if getattr(actor, "is_authenticated", False) else None,
            started_at=timezone.now(),
        )
        audit.record_event(
            actor=actor,
            action="core.scheduled_job_run_now",
            target=run,
            data={"entry": entry_name, "task": task_name},
        )
        transaction.on_commit(
            lambda: jobs.enqueue(
                task_name, *entry.get("args", ()), task_id=task_id, **entry.get("kwargs", {})
            )
        )
    return run


# The sequencer of the audit chain runs every few seconds: its newest runs are plenty.
KEEP_RUNS_PER_ENTRY = 1000


def prune_runs(*, keep_days: int | None = None, keep_per_entry: int = KEEP_RUNS_PER_ENTRY) -> int:
    """Delete runs that started more than `keep_days` (SCHEDULED_JOB_RUNS_KEEP_DAYS) ago,
    and beyond the newest `keep_per_entry` of each schedule entry."""
    days = settings.SCHEDULED_JOB_RUNS_KEEP_DAYS if keep_days is None else keep_days
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = ScheduledJobRun.objects.filter(started_at__lt=cutoff).delete()
    entries = ScheduledJobRun.objects.values_list("entry_name", flat=True).distinct()
    for entry in list(entries):
        oldest_kept = (
            ScheduledJobRun.objects.filter(entry_name=entry)
            .order_by("-started_at")
            .values_list("started_at", flat=True)[keep_per_entry - 1 : keep_per_entry]
            .first()
        )
        if oldest_kept is not None:
            more, _ = ScheduledJobRun.objects.filter(
                entry_name=entry, started_at__lt=oldest_kept
            ).delete()
            deleted += more
    return deleted
