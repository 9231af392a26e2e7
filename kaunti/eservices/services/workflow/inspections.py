"""An inspector's result, with notes and photos: a pass signs the step off, a failure
returns the application to the applicant."""

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kaunti.accounts.models import User
from kaunti.core.services.audit import record_event
from kaunti.eservices.definitions.documents import JPEG, PNG
from kaunti.eservices.definitions.workflow import StepKind
from kaunti.eservices.models import (
    Application,
    ApplicationDocument,
    ApplicationStatus,
    ApplicationStep,
    EventKind,
    StepOutcome,
)
from kaunti.eservices.services.files import removed_unless_completed, store_checked_upload
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
)
from kaunti.eservices.services.workflow.steps import approve_and_issue_if_complete, open_ready_steps
from kaunti.eservices.uploads import CheckedUpload, Upload, check_upload

MAX_INSPECTION_PHOTOS = 6
MAX_PHOTO_BYTES = 5 * 1024 * 1024
INSPECTION_PHOTO_KIND = "inspection_photo"


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
        required_text(notes, _("Write what failed, so the applicant knows what to fix."))
    checked = _check_photos(photos)
    stored: list[str] = []
    with removed_unless_completed(stored), transaction.atomic():
        application, step, steps = lock_step(step)
        check_can_act(application, step, actor, kinds=(StepKind.INSPECTION,))
        check_separation_of_duties(application, step, actor, steps)
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
            finish_step(step, actor=actor, outcome=StepOutcome.PASSED, notes=notes.strip())
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
            open_ready_steps(steps, timezone.now())
            completed = approve_and_issue_if_complete(application, steps, actor=actor)
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
