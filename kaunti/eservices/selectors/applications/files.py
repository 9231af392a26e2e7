"""Files of an application (uploads, inspectors' photos, the issued document), handed
only to its applicant or to staff who may view it."""

from dataclasses import dataclass
from typing import Any

from django.core.files import File
from django.core.files.storage import default_storage

from kaunti.eservices.models import Application, ApplicationDocument
from kaunti.eservices.permits import render_document_pdf
from kaunti.eservices.references import normalise_reference
from kaunti.eservices.selectors.applications.staff import may_view


@dataclass(frozen=True)
class StoredFile:
    """A file to hand to its owner or to staff: stream `open()` as an attachment named
    `display_name` with `content_type` (the type we detected, not the uploader's claim)."""

    display_name: str
    content_type: str
    size: int
    storage_name: str

    def open(self) -> "File[bytes]":
        return default_storage.open(self.storage_name, "rb")


def _may_see_application(user: Any, application: Application) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if application.applicant_id == user.pk:
        return True
    return bool(getattr(user, "is_county_staff", False)) and may_view(user, application)


def open_application_document(*, user: Any, public_id: Any) -> StoredFile | None:
    """A document of an application, for its applicant or staff who may view it; None
    for anyone else (so nobody learns that the document exists)."""
    document = (
        ApplicationDocument.objects.filter(public_id=public_id)
        .select_related("application__service__department")
        .first()
    )
    if document is None or not _may_see_application(user, document.application):
        return None
    return StoredFile(
        display_name=document.display_name,
        content_type=document.content_type,
        size=document.size,
        storage_name=document.storage_name,
    )


@dataclass(frozen=True)
class RenderedDocument:
    """An issued document's PDF, to send as an attachment named `filename`."""

    filename: str
    content: bytes
    content_type: str = "application/pdf"


def render_issued_document(*, user: Any, reference: str, language: str) -> RenderedDocument | None:
    """The PDF of an issued permit/licence/certificate, for its applicant or staff who may
    view the application; None otherwise or when nothing was issued."""
    application = (
        Application.objects.filter(reference=normalise_reference(reference))
        .select_related("service__department", "version", "issued_document", "ward")
        .first()
    )
    if (
        application is None
        or application.issued_document is None
        or not _may_see_application(user, application)
    ):
        return None
    number = application.issued_document.number.replace("/", "-")
    return RenderedDocument(
        filename=f"{number}.pdf", content=render_document_pdf(application, language=language)
    )
