"""The documents a service asks for, uploaded by the applicant: checked, stored, and
replacing an earlier upload of the same kind."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kaunti.accounts.models import User
from kaunti.core.services.audit import record_event
from kaunti.eservices.definitions.documents import DocumentSpec, parse_documents
from kaunti.eservices.definitions.language import current_language
from kaunti.eservices.models import Application, ApplicationDocument, EventKind
from kaunti.eservices.services.applications.access import lock_application, require_applicant
from kaunti.eservices.services.files import removed_unless_completed, store_checked_upload
from kaunti.eservices.services.notices import record_application_event
from kaunti.eservices.uploads import Upload, check_upload


def _document_spec(application: Application, kind: str) -> DocumentSpec:
    for spec in parse_documents(application.version.documents):
        if spec.kind == kind:
            return spec
    raise ValidationError({kind: [_("This service does not ask for that document.")]})


def attach_document(
    *, application: Application, actor: User, kind: str, upload: Upload
) -> ApplicationDocument:
    """Upload one of the documents the service asks for; a new upload of the same kind
    replaces the earlier one (which is kept, marked superseded).

    The content is checked (PDF, JPEG or PNG by its first bytes), the size capped and the
    name refused if it tries to name a folder; on any refusal nothing is stored.
    """
    spec = _document_spec(application, kind)
    try:
        checked = check_upload(
            upload,
            content_types=spec.content_types,
            max_bytes=spec.max_bytes,
            label=spec.label(current_language()),
        )
    except ValidationError as exc:
        raise ValidationError({kind: exc.messages}) from exc
    stored: list[str] = []
    with removed_unless_completed(stored), transaction.atomic():
        locked = lock_application(application)
        require_applicant(locked, actor)
        if not locked.is_editable:
            raise ValidationError(_("This application can no longer be changed."))
        name = store_checked_upload(checked=checked, folder=locked.reference)
        stored.append(name)
        now = timezone.now()
        locked.documents.filter(kind=kind, step__isnull=True, superseded_at__isnull=True).update(
            superseded_at=now
        )
        document = ApplicationDocument.objects.create(
            application=locked,
            kind=kind,
            display_name=checked.display_name,
            storage_name=name,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
            uploaded_by=actor,
        )
        record_application_event(
            application=locked,
            kind=EventKind.DOCUMENT_ATTACHED,
            actor=actor,
            data={"kind": kind, "name": checked.display_name},
        )
        record_event(
            actor=actor,
            action="eservices.document_attached",
            target=locked,
            data={
                "reference": locked.reference,
                "kind": kind,
                "sha256": checked.sha256,
                "size": checked.size,
            },
        )
    return document
