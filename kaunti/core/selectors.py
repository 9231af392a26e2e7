"""Reads of the kernel's reference data, jobs and scheduled job runs."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from celery.schedules import maybe_schedule
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Min, QuerySet
from django.utils import timezone

from kaunti import celery_app
from kaunti.core import permissions
from kaunti.core.metrics.figures import Figure, age_seconds
from kaunti.core.models import (
    AuditEvent,
    County,
    Department,
    Job,
    OutboxMessage,
    OutboxStatus,
    ScheduledJobRun,
    Ward,
)
from kaunti.core.schedule_words import describe_schedule, entry_label


def get_deployment_county_name() -> str:
    """The county this deployment serves (COUNTY_CODE), cached: it changes almost never."""
    key = f"county-name:{settings.COUNTY_CODE}"
    name = cache.get(key)
    if name is None:
        county = County.objects.filter(code=settings.COUNTY_CODE).only("name").first()
        name = county.name if county else "County"
        cache.set(key, name, 3600)
    return str(name)


def list_wards() -> QuerySet[Ward]:
    """The deployment county's wards, with their sub-counties."""
    return Ward.objects.filter(sub_county__county__code=settings.COUNTY_CODE).select_related(
        "sub_county"
    )


def list_departments() -> QuerySet[Department]:
    return Department.objects.filter(is_active=True)


def get_job(*, user: Any, public_id: UUID) -> Job | None:
    """A background job's progress, for verified staff who may watch jobs (`core.view_jobs`).

    The permission is checked before the lookup, so someone without it cannot learn
    which job ids exist.
    """
    permissions.check_staff(user, "core.view_jobs")
    return Job.objects.filter(public_id=public_id).first()


def outbox_figures() -> list[Figure]:
    """/metrics: messages waiting to be sent, and how long the oldest has waited (a
    count and a minimum over pending rows, found by the outbox's status index)."""
    pending = OutboxMessage.objects.filter(status=OutboxStatus.PENDING).aggregate(
        count=Count("pk"), oldest=Min("created_at")
    )
    return [
        Figure.single(
            "kaunti_outbox_pending",
            "Notifications (SMS, email) waiting to be sent or retried.",
            pending["count"],
        ),
        Figure.single(
            "kaunti_outbox_oldest_pending_age_seconds",
            "How long the oldest notification waiting to be sent has waited.",
            age_seconds(pending["oldest"], timezone.now()),
        ),
    ]


def audit_figures() -> list[Figure]:
    """/metrics: audit events recorded but not yet sealed into the chain, and the age of
    the oldest (read by the partial index of unsealed events): a growing age means the
    sequencer's scheduled task is not running (ADR 19)."""
    waiting = AuditEvent.objects.filter(seq__isnull=True).aggregate(
        count=Count("pk"), oldest=Min("occurred_at")
    )
    return [
        Figure.single(
            "kaunti_audit_unsealed_events",
            "Audit events recorded but not yet sealed into the chain.",
            waiting["count"],
        ),
        Figure.single(
            "kaunti_audit_oldest_unsealed_age_seconds",
            "How long the oldest audit event waiting to be sealed has waited.",
            age_seconds(waiting["oldest"], timezone.now()),
        ),
    ]


@dataclass(frozen=True)
class ScheduledJob:
    """One entry of the beat schedule as the staff page shows it."""

    name: str
    label: str
    task: str
    schedule: str
    last_run: ScheduledJobRun | None
    next_run: datetime


def _next_run(value: Any, last_scheduled: datetime | None, now: datetime) -> datetime:
    """When beat next runs the entry: from its schedule and its last run by the schedule
    (a run by hand does not move it). Never run: counted from now, as beat counts a new entry."""
    remaining = maybe_schedule(value, app=celery_app).remaining_estimate(last_scheduled or now)
    # To the nearest second: Celery reads its own clock, a moment after `now`.
    due = max(now, now + remaining) + timedelta(microseconds=500_000)
    return due.replace(microsecond=0)


def list_scheduled_jobs() -> list[ScheduledJob]:
    """Every entry of CELERY_BEAT_SCHEDULE, in its order, with its last run (by the schedule
    or by hand) and its next run. Two indexed look-ups an entry; the schedule is short."""
    now = timezone.now()
    jobs: list[ScheduledJob] = []
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        runs = ScheduledJobRun.objects.filter(entry_name=name).select_related("requested_by")
        last_run = runs.order_by("-started_at", "-pk").first()
        last_scheduled = (
            last_run
            if last_run is not None and not last_run.by_hand
            else runs.filter(by_hand=False).order_by("-started_at", "-pk").first()
        )
        jobs.append(
            ScheduledJob(
                name=name,
                label=entry_label(name),
                task=entry["task"],
                schedule=describe_schedule(entry["schedule"]),
                last_run=last_run,
                next_run=_next_run(
                    entry["schedule"], last_scheduled.started_at if last_scheduled else None, now
                ),
            )
        )
    return jobs


def list_recent_runs(*, entry_name: str | None = None, limit: int = 20) -> list[ScheduledJobRun]:
    """The latest runs of scheduled jobs (of one entry when given), newest first."""
    runs = ScheduledJobRun.objects.select_related("requested_by").order_by("-started_at", "-pk")
    if entry_name is not None:
        runs = runs.filter(entry_name=entry_name)
    return list(runs[:limit])


def scheduled_job_label(entry_name: str) -> str:
    """A schedule entry's name in words, in the active language."""
    return entry_label(entry_name)
