"""Background jobs: queuing a task by its registered name, and the job records long tasks
keep (done/total) so pages can show progress."""

from typing import Any

from celery import current_app
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Least
from django.utils import timezone

from kaunti.core.models import Job, JobState


def create_job(
    *, kind: str, description: str = "", total: int = 0, started_by: Any | None = None
) -> Job:
    """Record a job before its task is enqueued, so its page exists at once."""
    user = started_by if started_by is not None and started_by.is_authenticated else None
    return Job.objects.create(kind=kind, description=description, total=total, started_by=user)


def start_job(*, job: Job, total: int) -> None:
    """Mark a job running with the number of items it will handle.

    A restart keeps `done`, but never above the new total: the database refuses a job
    that has done more than it has (`job_done_not_above_total`).
    """
    Job.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING,
        total=total,
        done=Least(F("done"), Value(total)),
        started_at=timezone.now(),
        error="",
    )


def advance_job(*, job: Job, by: int = 1) -> None:
    """Count `by` more items done; an atomic increment, safe from several workers."""
    Job.objects.filter(pk=job.pk).update(done=Least(F("done") + by, F("total")))


def finish_job(*, job: Job) -> None:
    """Mark a job finished; every item counts as done, so the bar ends full."""
    Job.objects.filter(pk=job.pk).update(
        state=JobState.SUCCEEDED, done=F("total"), finished_at=timezone.now()
    )


def fail_job(*, job: Job, error: str) -> None:
    """Mark a job failed, keeping `done` (how far it got) and the error for staff to read."""
    Job.objects.filter(pk=job.pk).update(
        state=JobState.FAILED, error=error[:4000], finished_at=timezone.now()
    )


def enqueue(
    task_name: str,
    *args: Any,
    countdown: float | None = None,
    task_id: str | None = None,
    **kwargs: Any,
) -> None:
    """Queue the task registered as `task_name`, without importing its module; `task_id`
    names the run when the caller has recorded it already (a scheduled job run by hand).

    Services use this because tasks import services, never the other way round. The task
    runs in place when no broker is configured (`CELERY_TASK_ALWAYS_EAGER`), as an
    imported task would: an app whose services queue tasks by name imports its tasks in
    `ready()`, so that every process knows the name.
    """
    current_app.signature(task_name, args=args, kwargs=kwargs).apply_async(
        countdown=countdown, task_id=task_id
    )


def enqueue_on_commit(task_name: str, *args: Any, **kwargs: Any) -> None:
    """`enqueue` once the transaction commits: the rows the task reads (its job, the
    messages to send) must be there when a worker looks."""
    transaction.on_commit(lambda: enqueue(task_name, *args, **kwargs))
