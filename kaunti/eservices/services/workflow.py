"""Staff work on an application: the steps of its workflow, their SLAs, and the decision.

A step opens when every step it waits for is done, and its SLA clock starts then
(County Licensing (Uniform Procedures) Act 2024, s. 13: period of determination). A
bundled permit's inspections are separate steps that approval waits for: bundling never
skips an inspection. With separation of duties on (the default), whoever inspected an
application may not approve it, and the other way round.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kaunti.accounts.models import User
from kaunti.accounts.permissions import has_permission, require_permission
from kaunti.core.audit import record_event
from kaunti.core.models import Department
from kaunti.eservices.definitions import JPEG, PNG, STEP_ACTIONS, StepKind, parse_workflow
from kaunti.eservices.models import (
    Application,
    ApplicationDocument,
    ApplicationStatus,
    ApplicationStep,
    EventKind,
    StepOutcome,
    StepStatus,
)
from kaunti.eservices.services.files import removed_unless_completed, store_checked_upload
from kaunti.eservices.services.issuing import issue_approved_application
from kaunti.eservices.services.notices import (
    record_application_event,
    text_applicant,
    text_applicant_step_done,
)
from kaunti.eservices.uploads import CheckedUpload, Upload, check_upload

MAX_INSPECTION_PHOTOS = 6
MAX_PHOTO_BYTES = 5 * 1024 * 1024
INSPECTION_PHOTO_KIND = "inspection_photo"


# --- Starting and moving the workflow (called inside other services' transactions) ------------


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
    return _locked_steps(application)


def _locked_steps(application: Application) -> list[ApplicationStep]:
    return list(
        application.steps.select_for_update(of=("self",))
        .select_related("department")
        .order_by("position")
    )


def _open_ready_steps(steps: Iterable[ApplicationStep], now: datetime) -> list[ApplicationStep]:
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


def _approve_and_issue_if_complete(
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
    steps = _locked_steps(application) or _create_steps(application)
    application.status = ApplicationStatus.IN_REVIEW
    application.save(update_fields=["status", "paid_at", "updated_at"])
    record_application_event(application=application, kind=event_kind, actor=actor, data=event_data)
    _open_ready_steps(steps, now)
    _approve_and_issue_if_complete(application, steps, actor=actor)


def restart_open_steps(application: Application) -> None:
    """After a resubmission the open steps get a fresh SLA: the clock was stopped while
    the applicant had the application back."""
    now = timezone.now()
    for step in _locked_steps(application):
        if step.status == StepStatus.OPEN:
            step.opened_at = now
            step.due_at = now + timedelta(hours=step.sla_hours)
            step.save(update_fields=["opened_at", "due_at"])


# --- Guards ---------------------------------------------------------------------------------


def _lock(step: ApplicationStep) -> tuple[Application, ApplicationStep, list[ApplicationStep]]:
    """Lock the step's application, then all its steps (in position order, one query):
    the step acted on is one of them, and the others decide what opens next."""
    application = (
        Application.objects.select_for_update(of=("self",))
        .select_related("service", "version", "applicant", "bill", "issued_document")
        .get(pk=step.application_id)
    )
    steps = _locked_steps(application)
    locked = next((candidate for candidate in steps if candidate.pk == step.pk), None)
    if locked is None:
        raise ApplicationStep.DoesNotExist(f"step {step.pk} is not a step of its application")
    return application, locked, steps


def _check_can_act(
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


def _check_separation_of_duties(
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


def _finish(step: ApplicationStep, *, actor: User, outcome: str, notes: str) -> None:
    step.status = StepStatus.DONE
    step.outcome = outcome
    step.completed_at = timezone.now()
    step.completed_by = actor
    step.notes = notes
    step.save(update_fields=["status", "outcome", "completed_at", "completed_by", "notes"])


def _required_text(text: str, message: str) -> str:
    cleaned = (text or "").strip()
    if not cleaned:
        raise ValidationError(message)
    return cleaned


# --- Staff actions ---------------------------------------------------------------------------


@transaction.atomic
def approve_step(*, step: ApplicationStep, actor: User, note: str = "") -> Application:
    """Sign off a review or approval step. When it is the last step the application is
    approved and its document issued in the same transaction."""
    application, step, steps = _lock(step)
    _check_can_act(application, step, actor, kinds=(StepKind.REVIEW, StepKind.APPROVAL))
    _check_separation_of_duties(application, step, actor, steps)
    _finish(step, actor=actor, outcome=StepOutcome.APPROVED, notes=note.strip())
    record_application_event(
        application=application,
        kind=EventKind.STEP_APPROVED,
        actor=actor,
        step=step,
        data={"step": step.code, "internal_note": note.strip()},
    )
    _open_ready_steps(steps, timezone.now())
    completed = _approve_and_issue_if_complete(application, steps, actor=actor)
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


def _check_photos(photos: Sequence[Upload]) -> list[CheckedUpload]:
    if len(photos) > MAX_INSPECTION_PHOTOS:
        raise ValidationError(
            {"photos": [_("At most %(n)s photos per inspection.") % {"n": MAX_INSPECTION_PHOTOS}]}
        )
    checked = []
    for photo in photos:
        try:
            checked.append(
                check_upload(
                    photo,
                    content_types=frozenset({JPEG, PNG}),
                    max_bytes=MAX_PHOTO_BYTES,
                    label=_("Photo"),
                )
            )
        except ValidationError as exc:
            raise ValidationError({"photos": exc.messages}) from exc
    return checked


def record_inspection_result(
    *,
    step: ApplicationStep,
    actor: User,
    passed: bool,
    notes: str,
    photos: Sequence[Upload] = (),
) -> Application:
    """Record an inspection, with notes and optional photos (JPEG or PNG).

    A pass signs the step off. A failure returns the application to the applicant with
    the inspector's notes; the step stays open for a new inspection after resubmission.
    """
    if not passed:
        _required_text(notes, _("Write what failed, so the applicant knows what to fix."))
    checked = _check_photos(photos)
    stored: list[str] = []
    with removed_unless_completed(stored), transaction.atomic():
        application, step, steps = _lock(step)
        _check_can_act(application, step, actor, kinds=(StepKind.INSPECTION,))
        _check_separation_of_duties(application, step, actor, steps)
        for photo in checked:
            name = store_checked_upload(checked=photo, folder=application.reference)
            stored.append(name)
            ApplicationDocument.objects.create(
                application=application,
                kind=INSPECTION_PHOTO_KIND,
                step=step,
                display_name=photo.display_name,
                storage_name=name,
                content_type=photo.content_type,
                size=photo.size,
                sha256=photo.sha256,
                uploaded_by=actor,
            )
        if passed:
            _finish(step, actor=actor, outcome=StepOutcome.PASSED, notes=notes.strip())
        else:
            step.notes = notes.strip()
            step.save(update_fields=["notes"])
            application.status = ApplicationStatus.RETURNED
            application.save(update_fields=["status", "updated_at"])
        record_application_event(
            application=application,
            kind=EventKind.INSPECTION_RECORDED,
            actor=actor,
            step=step,
            note="" if passed else notes.strip(),
            data={
                "step": step.code,
                "passed": passed,
                "photos": len(checked),
                "internal_note": notes.strip(),
            },
        )
        completed = False
        if passed:
            _open_ready_steps(steps, timezone.now())
            completed = _approve_and_issue_if_complete(application, steps, actor=actor)
            if not completed:
                text_applicant_step_done(application=application, step=step, steps=steps)
        else:
            text_applicant(
                application=application, template="application_returned", note=notes.strip()
            )
        record_event(
            actor=actor,
            action="eservices.inspection_recorded",
            target=application,
            data={
                "reference": application.reference,
                "step": step.code,
                "passed": passed,
                "photos": len(checked),
                "issued": completed,
            },
        )
    return application


@transaction.atomic
def return_for_changes(*, step: ApplicationStep, actor: User, note: str) -> Application:
    """Give the application back to the applicant with a note of what to change; the
    step stays open and its SLA restarts when they resubmit."""
    note = _required_text(note, _("Write what the applicant should change."))
    application, step, _steps = _lock(step)
    _check_can_act(application, step, actor, kinds=tuple(StepKind))
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
    reason = _required_text(reason, _("Give the reason for the rejection."))
    application, step, _steps = _lock(step)
    _check_can_act(application, step, actor, kinds=(StepKind.REVIEW, StepKind.APPROVAL))
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
    application, step, steps = _lock(step)
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
        _check_separation_of_duties(application, step, assignee, steps)
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


def step_action(step: ApplicationStep) -> str:
    """The permission (ACTION_ROLES) needed to act on `step`."""
    return STEP_ACTIONS[StepKind(step.kind)]
