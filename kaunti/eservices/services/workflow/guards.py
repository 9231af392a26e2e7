"""What every staff action on a step shares: the locks, the check of who may act
(permission, then state, then assignment), separation of duties, and signing a step off."""

from collections.abc import Iterable, Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from kaunti.accounts.models import User
from kaunti.accounts.permissions import require_permission
from kaunti.eservices.definitions.workflow import STEP_ACTIONS, StepKind
from kaunti.eservices.models import (
    Application,
    ApplicationStatus,
    ApplicationStep,
    EventKind,
    StepOutcome,
    StepStatus,
)
from kaunti.eservices.services.workflow.steps import locked_steps


def lock_step(step: ApplicationStep) -> tuple[Application, ApplicationStep, list[ApplicationStep]]:
    """Lock the step's application, then all its steps (in position order, one query):
    the step acted on is one of them, and the others decide what opens next."""
    application = (
        Application.objects.select_for_update(of=("self",))
        .select_related("service", "version", "applicant", "bill", "issued_document")
        .get(pk=step.application_id)
    )
    steps = locked_steps(application)
    locked = next((candidate for candidate in steps if candidate.pk == step.pk), None)
    if locked is None:
        raise ApplicationStep.DoesNotExist(f"step {step.pk} is not a step of its application")
    return application, locked, steps


def check_can_act(
    application: Application,
    step: ApplicationStep,
    actor: User,
    *,
    kinds: Iterable[StepKind],
) -> None:
    """Permission first (a 403 tells nothing of the state), then state, then assignment."""
    require_permission(actor, STEP_ACTIONS[StepKind(step.kind)], step.department)
    if step.kind not in {kind.value for kind in kinds}:
        raise ValidationError(_("This action does not apply to a step of this kind."))
    if application.status != ApplicationStatus.IN_REVIEW:
        raise ValidationError(
            _("This application is not in review: it is %(status)s.")
            % {"status": application.get_status_display()}
        )
    if step.status == StepStatus.WAITING:
        waiting_for = ApplicationStep.objects.filter(
            application=application, code__in=step.after
        ).exclude(status=StepStatus.DONE)
        names = ", ".join(str(other.name_en) for other in waiting_for.order_by("position"))
        raise ValidationError(
            _("This step cannot be signed off yet: waiting for %(steps)s.") % {"steps": names}
        )
    if step.status != StepStatus.OPEN:
        raise ValidationError(_("This step is already finished."))
    if step.assigned_to_id is not None and step.assigned_to_id != actor.pk:
        raise PermissionDenied("step assigned to someone else")


def _inspected(application: Application, steps: Sequence[ApplicationStep], user: User) -> bool:
    """A passed inspection is on its step (done by `user`); a failed one, which leaves
    the step open, only in the timeline."""
    if any(step.kind == StepKind.INSPECTION and step.completed_by_id == user.pk for step in steps):
        return True
    return application.events.filter(kind=EventKind.INSPECTION_RECORDED, actor=user).exists()


def _approved(steps: Sequence[ApplicationStep], user: User) -> bool:
    """An approval step signed off by `user`: only `approve_step` finishes an approval
    step (a rejection closes the steps), so this is the same as a "step approved" entry
    of theirs on an approval step, read from the steps already locked."""
    return any(
        step.kind == StepKind.APPROVAL
        and step.status == StepStatus.DONE
        and step.outcome == StepOutcome.APPROVED
        and step.completed_by_id == user.pk
        for step in steps
    )


def check_separation_of_duties(
    application: Application,
    step: ApplicationStep,
    user: User,
    steps: Sequence[ApplicationStep],
) -> None:
    if not application.version.separation_of_duties:
        return
    if step.kind == StepKind.APPROVAL and _inspected(application, steps, user):
        raise ValidationError(
            _(
                "Whoever inspected this application may not also approve it "
                "(separation of duties): someone else must approve it."
            )
        )
    if step.kind == StepKind.INSPECTION and _approved(steps, user):
        raise ValidationError(
            _(
                "Whoever approved this application may not also inspect it "
                "(separation of duties): someone else must inspect it."
            )
        )


def finish_step(step: ApplicationStep, *, actor: User, outcome: str, notes: str) -> None:
    step.status = StepStatus.DONE
    step.outcome = outcome
    step.completed_at = timezone.now()
    step.completed_by = actor
    step.notes = notes
    step.save(update_fields=["status", "outcome", "completed_at", "completed_by", "notes"])


def required_text(text: str, message: str) -> str:
    cleaned = (text or "").strip()
    if not cleaned:
        raise ValidationError(message)
    return cleaned


def step_action(step: ApplicationStep) -> str:
    """The permission (ACTION_ROLES) needed to act on `step`."""
    return STEP_ACTIONS[StepKind(step.kind)]
