"""Reads of the kernel's reference data."""

from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Min, QuerySet
from django.utils import timezone

from kaunti.core import permissions
from kaunti.core.metrics.figures import Figure, age_seconds
from kaunti.core.models import County, Department, Job, OutboxMessage, OutboxStatus, Ward


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
