"""A staff member's decisions on a step: sign it off, return the application for
changes, reject it, or give the step to another officer."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kaunti.accounts.models import User
from kaunti.accounts.permissions import has_permission, require_permission
from kaunti.core.services.audit import record_event
from kaunti.eservices.definitions.workflow import StepKind
from kaunti.eservices.models import (
    Application,
    ApplicationStatus,
    ApplicationStep,
    EventKind,
    StepOutcome,
    StepStatus,
)
from kaunti.eservices.services.notices import (
    record_application_event,
    text_applicant,
    text_applicant_step_done,
)
from kaunti.eservices.services.workflow.guards import (
    check_can_act,
    check_separation_of_duties,
    finish_step,
    lock_step,
    required_text,
    step_action,
)
from kaunti.eservices.services.workflow.steps import approve_and_issue_if_complete, open_ready_steps


@transaction.atomic
def approve_step(*, step: ApplicationStep, actor: User, note: str = "") -> Application:
    """Sign off a review or approval step. When it is the last step the application is
    approved and its document issued in the same transaction."""
    application, step, steps = lock_step(step)
    check_can_act(application, step, actor, kinds=(StepKind.REVIEW, StepKind.APPROVAL))
    check_separation_of_duties(application, step, actor, steps)
    finish_step(step, actor=actor, outcome=StepOutcome.APPROVED, notes=note.strip())
    record_application_event(
        application=application,
        kind=EventKind.STEP_APPROVED,
        actor=actor,
        step=step,
        data={"step": step.code, "internal_note": note.strip()},
    )
    open_ready_steps(steps, timezone.now())
    completed = approve_and_issue_if_complete(application, steps, actor=actor)
    if not completed:  # the issue itself is texted when the last step completes it
        text_applicant_step_done(application=application, step=step, steps=steps)
    record_event(
        actor=actor,
        action="eservices.step_approved",
        target=application,
        data={
            "reference": application.reference,
            "step": step.code,
            "issued": application.issued_document.number
            if completed and application.issued_document
            else None,
        },
    )
    return application


@transaction.atomic
def return_for_changes(*, step: ApplicationStep, actor: User, note: str) -> Application:
    """Give the application back to the applicant with a note of what to change; the
    step stays open and its SLA restarts when they resubmit."""
    note = required_text(note, _("Write what the applicant should change."))
    application, step, _steps = lock_step(step)
    check_can_act(application, step, actor, kinds=tuple(StepKind))
    application.status = ApplicationStatus.RETURNED
    application.save(update_fields=["status", "updated_at"])
    record_application_event(
        application=application, kind=EventKind.RETURNED, actor=actor, step=step, note=note
    )
    text_applicant(application=application, template="application_returned", note=note)
    record_event(
        actor=actor,
        action="eservices.application_returned",
        target=application,
        data={"reference": application.reference, "step": step.code},
    )
    return application


@transaction.atomic
def reject_application(*, step: ApplicationStep, actor: User, reason: str) -> Application:
    """Refuse the application, with the reason the applicant is told (County Licensing
    (Uniform Procedures) Act 2024, s. 15: notice of decision). Fees paid are not refunded
    here: a refund is a separate decision of the revenue office."""
    reason = required_text(reason, _("Give the reason for the rejection."))
    application, step, _steps = lock_step(step)
    check_can_act(application, step, actor, kinds=(StepKind.REVIEW, StepKind.APPROVAL))
    application.status = ApplicationStatus.REJECTED
    application.decided_at = timezone.now()
    application.decision_reason = reason
    application.save(update_fields=["status", "decided_at", "decision_reason", "updated_at"])
    application.steps.exclude(status=StepStatus.DONE).update(status=StepStatus.CLOSED)
    record_application_event(
        application=application, kind=EventKind.REJECTED, actor=actor, step=step, note=reason
    )
    text_applicant(application=application, template="application_rejected", reason=reason)
    record_event(
        actor=actor,
        action="eservices.application_rejected",
        target=application,
        data={"reference": application.reference, "step": step.code},
    )
    return application


@transaction.atomic
def reassign_step(
    *, step: ApplicationStep, actor: User, assignee: User | None, reason: str = ""
) -> ApplicationStep:
    """A supervisor gives a step to another officer (or back to the whole team, with None)."""
    application, step, steps = lock_step(step)
    require_permission(actor, "eservices.reassign", step.department)
    if step.status not in (StepStatus.WAITING, StepStatus.OPEN) or application.status in (
        ApplicationStatus.REJECTED,
        ApplicationStatus.APPROVED,
        ApplicationStatus.ISSUED,
    ):
        raise ValidationError(_("This step is finished; it cannot be reassigned."))
    if assignee is not None:
        if not has_permission(assignee, step_action(step), step.department):
            raise ValidationError(
                _("%(name)s may not act on this step in %(department)s.")
                % {
                    "name": assignee.full_name or assignee.username,
                    "department": step.department.localized_name,
                }
            )
        check_separation_of_duties(application, step, assignee, steps)
    previous = step.assigned_to
    step.assigned_to = assignee
    step.save(update_fields=["assigned_to"])
    record_application_event(
        application=application,
        kind=EventKind.REASSIGNED,
        actor=actor,
        step=step,
        is_visible_to_applicant=False,
        data={
            "step": step.code,
            "from": previous.username if previous else None,
            "to": assignee.username if assignee else None,
            "internal_note": reason.strip(),
        },
    )
    record_event(
        actor=actor,
        action="eservices.step_reassigned",
        target=application,
        data={
            "reference": application.reference,
            "step": step.code,
            "to": assignee.username if assignee else None,
        },
    )
    return step
