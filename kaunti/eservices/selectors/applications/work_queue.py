"""Steps as staff work on them: the open steps a person may act on, soonest due first,
and a supervisor's overdue and unassignable steps."""

from datetime import datetime
from typing import Any, Literal

from django.db.models import Q, QuerySet
from django.utils import timezone

from kaunti.accounts.permissions import (
    department_ids_anyone_may,
    department_ids_where,
    has_permission,
)
from kaunti.eservices.definitions.workflow import STEP_ACTIONS, StepKind
from kaunti.eservices.models import ApplicationStatus, ApplicationStep, StepStatus
from kaunti.eservices.selectors.applications.staff import is_staff

Assigned = Literal["any", "mine", "unassigned"]


def _actionable_steps(user: Any) -> Q:
    condition = Q(pk__in=[])
    for kind, action in STEP_ACTIONS.items():
        ids = department_ids_where(user, action)
        if ids:
            condition |= Q(kind=kind.value, department_id__in=ids)
    return condition


def list_work_queue(
    *,
    user: Any,
    service_code: str = "",
    ward_code: str = "",
    overdue_only: bool = False,
    assigned: Assigned = "any",
    now: datetime | None = None,
) -> QuerySet[ApplicationStep]:
    """Open steps `user` may act on (by the step's kind and department), soonest due
    first. With `assigned="any"`, steps assigned to someone else are left out."""
    if not is_staff(user):
        return ApplicationStep.objects.none()
    steps = ApplicationStep.objects.filter(
        _actionable_steps(user),
        status=StepStatus.OPEN,
        application__status=ApplicationStatus.IN_REVIEW,
    ).select_related("application__service", "application__ward", "department", "assigned_to")
    if assigned == "mine":
        steps = steps.filter(assigned_to=user)
    elif assigned == "unassigned":
        steps = steps.filter(assigned_to__isnull=True)
    else:
        steps = steps.filter(Q(assigned_to__isnull=True) | Q(assigned_to=user))
    if service_code:
        steps = steps.filter(application__service__code=service_code)
    if ward_code:
        steps = steps.filter(application__ward__code=ward_code)
    if overdue_only:
        steps = steps.filter(due_at__lt=now or timezone.now())
    return steps.order_by("due_at", "pk")


def list_overdue_steps(*, user: Any, now: datetime | None = None) -> QuerySet[ApplicationStep]:
    """Open steps past their SLA in the departments where `user` supervises (may
    reassign), for the supervisor's "overdue" view."""
    ids = department_ids_where(user, "eservices.reassign")
    return (
        ApplicationStep.objects.filter(
            department_id__in=ids,
            status=StepStatus.OPEN,
            application__status=ApplicationStatus.IN_REVIEW,
            due_at__lt=now or timezone.now(),
        )
        .select_related("application__service", "application__ward", "department", "assigned_to")
        .order_by("due_at", "pk")
    )


def _nobody_may_act() -> Q:
    """Steps whose department (nor a department above it) has no active officer holding a
    role that may act on a step of their kind."""
    someone = Q(pk__in=[])
    for kind, action in STEP_ACTIONS.items():
        someone |= Q(kind=kind.value, department_id__in=department_ids_anyone_may(action))
    return ~someone


def list_unassignable_steps(*, user: Any) -> QuerySet[ApplicationStep]:
    """Steps of applications in review (open, or waiting for earlier ones) that nobody
    may act on, for a supervisor of the step's department or of the service's: they
    would only ever turn overdue, so they are shown at once (issue 14)."""
    ids = department_ids_where(user, "eservices.reassign")
    if not ids:
        return ApplicationStep.objects.none()
    return (
        ApplicationStep.objects.filter(
            Q(department_id__in=ids) | Q(application__service__department_id__in=ids),
            _nobody_may_act(),
            status__in=(StepStatus.OPEN, StepStatus.WAITING),
            application__status=ApplicationStatus.IN_REVIEW,
        )
        .select_related("application__service", "application__ward", "department")
        .order_by("application__paid_at", "application_id", "position")
    )


def unassignable_step_ids(*, steps: list[ApplicationStep]) -> set[int]:
    """Which of `steps` nobody may act on (the application page flags them)."""
    ids = [step.pk for step in steps]
    return set(
        ApplicationStep.objects.filter(_nobody_may_act(), pk__in=ids).values_list("pk", flat=True)
    )


def is_step_overdue(step: ApplicationStep, *, now: datetime | None = None) -> bool:
    """Open and past its SLA (what the work queue highlights)."""
    return (
        step.status == StepStatus.OPEN
        and step.due_at is not None
        and step.due_at < (now or timezone.now())
    )


def may_act_on_step(*, user: Any, step: ApplicationStep) -> bool:
    """Whether to offer `user` the step's actions (the services decide again)."""
    return step.status == StepStatus.OPEN and has_permission(
        user, STEP_ACTIONS[StepKind(step.kind)], step.department
    )
