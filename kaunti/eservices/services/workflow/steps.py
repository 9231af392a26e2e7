"""The steps of an application's workflow, created when review starts and opened as
the steps they wait for finish (each one's SLA clock starts when it opens). These run
inside the transaction of the service that calls them, with the application locked."""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from kaunti.accounts.models import User
from kaunti.core.models import Department
from kaunti.eservices.definitions.workflow import parse_workflow
from kaunti.eservices.models import (
    Application,
    ApplicationStatus,
    ApplicationStep,
    EventKind,
    StepStatus,
)
from kaunti.eservices.services.issuing import issue_approved_application
from kaunti.eservices.services.notices import record_application_event


def _create_steps(application: Application) -> list[ApplicationStep]:
    specs = parse_workflow(application.version.workflow)
    codes = {spec.department for spec in specs if spec.department}
    departments = {d.code: d for d in Department.objects.filter(code__in=codes)}
    default = application.service.department
    created = ApplicationStep.objects.bulk_create(
        [
            ApplicationStep(
                application=application,
                code=spec.code,
                position=position,
                kind=spec.kind.value,
                name_en=spec.name_en,
                name_sw=spec.name_sw,
                role=spec.role,
                department=departments.get(spec.department, default),
                sla_hours=spec.sla_hours,
                after=list(spec.after),
            )
            for position, spec in enumerate(specs, start=1)
        ]
    )
    if all(step.pk is not None for step in created):
        return created  # rows this transaction inserted: no one else can see them yet
    return locked_steps(application)


def locked_steps(application: Application) -> list[ApplicationStep]:
    return list(
        application.steps.select_for_update(of=("self",))
        .select_related("department")
        .order_by("position")
    )


def open_ready_steps(steps: Iterable[ApplicationStep], now: datetime) -> list[ApplicationStep]:
    """Open every waiting step whose earlier steps are all done; start its SLA clock."""
    steps = list(steps)
    done = {step.code for step in steps if step.status == StepStatus.DONE}
    opened = []
    for step in steps:
        if step.status == StepStatus.WAITING and all(code in done for code in step.after):
            step.status = StepStatus.OPEN
            step.opened_at = now
            step.due_at = now + timedelta(hours=step.sla_hours)
            step.save(update_fields=["status", "opened_at", "due_at"])
            opened.append(step)
    return opened


def approve_and_issue_if_complete(
    application: Application, steps: Sequence[ApplicationStep], *, actor: User | None
) -> bool:
    """When every step is done the application is approved, and its document issued."""
    if any(step.status != StepStatus.DONE for step in steps):
        return False
    application.status = ApplicationStatus.APPROVED
    application.decided_at = timezone.now()
    application.save(update_fields=["status", "decided_at", "updated_at"])
    record_application_event(application=application, kind=EventKind.APPROVED, actor=actor)
    issue_approved_application(application, actor=actor)
    return True


def start_review(
    application: Application,
    *,
    actor: User | None,
    event_kind: str,
    event_data: Mapping[str, Any] | None = None,
) -> None:
    """Move a locked, paid (or free) application into review and open its first steps;
    `event_kind` is the timeline entry that says why (paid, or submitted without fee)."""
    now = timezone.now()
    steps = locked_steps(application) or _create_steps(application)
    application.status = ApplicationStatus.IN_REVIEW
    application.save(update_fields=["status", "paid_at", "updated_at"])
    record_application_event(application=application, kind=event_kind, actor=actor, data=event_data)
    open_ready_steps(steps, now)
    approve_and_issue_if_complete(application, steps, actor=actor)


def restart_open_steps(application: Application) -> None:
    """After a resubmission the open steps get a fresh SLA: the clock was stopped while
    the applicant had the application back."""
    now = timezone.now()
    for step in locked_steps(application):
        if step.status == StepStatus.OPEN:
            step.opened_at = now
            step.due_at = now + timedelta(hours=step.sla_hours)
            step.save(update_fields=["opened_at", "due_at"])
