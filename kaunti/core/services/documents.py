"""Issued documents anyone can verify at /verify/<code>, and their QR codes."""

import io
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import segno
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from kaunti.core.bulk import insert_objects
from kaunti.core.models import IssuedDocument

# No look-alike characters (0/O, 1/I/L, 2/Z, 5/S, 8/B): codes are read aloud and typed.
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 13


def new_verification_code() -> str:
    """13 characters from 25: about 60 bits, not guessable (one draw from the OS's CSPRNG,
    written in base 25)."""
    value = secrets.randbelow(len(CODE_ALPHABET) ** CODE_LENGTH)
    characters = []
    for _ in range(CODE_LENGTH):
        value, digit = divmod(value, len(CODE_ALPHABET))
        characters.append(CODE_ALPHABET[digit])
    return "".join(characters)


@dataclass(frozen=True)
class DocumentRecord:
    """An issued document to record (see `register_document`)."""

    kind: str
    number: str
    holder_name: str
    issued_at: datetime
    source_type: str
    source_ref: str
    summary: str = ""
    valid_until: date | None = None
    verification_code: str | None = None
    summary_sw: str = ""


def register_documents(records: Sequence[DocumentRecord]) -> list[IssuedDocument]:
    """Record issued documents so that their codes verify (the batch form)."""
    return insert_objects(
        IssuedDocument(
            verification_code=record.verification_code or new_verification_code(),
            kind=record.kind,
            number=record.number,
            holder_name=record.holder_name[:150],
            summary=record.summary[:200],
            summary_sw=record.summary_sw[:200],
            issued_at=record.issued_at,
            valid_until=record.valid_until,
            source_type=record.source_type,
            source_ref=record.source_ref,
        )
        for record in records
    )


def register_document(
    *,
    kind: str,
    number: str,
    holder_name: str,
    issued_at: datetime,
    source_type: str,
    source_ref: str,
    summary: str = "",
    valid_until: date | None = None,
    verification_code: str | None = None,
    summary_sw: str = "",
) -> IssuedDocument:
    """Record an issued document so that its code verifies; call inside the issuing transaction."""
    record = DocumentRecord(
        kind,
        number,
        holder_name,
        issued_at,
        source_type,
        source_ref,
        summary,
        valid_until,
        verification_code,
        summary_sw,
    )
    return register_documents([record])[0]


@transaction.atomic
def revoke_document(*, document: IssuedDocument, reason: str) -> IssuedDocument:
    if document.revoked_at is None:
        document.revoked_at = timezone.now()
        document.revocation_reason = reason[:255]
        document.save(update_fields=["revoked_at", "revocation_reason"])
    return document


@dataclass(frozen=True)
class Verification:
    document: IssuedDocument | None
    state: str  # valid, expired, revoked, unknown


def verify(*, code: str) -> Verification:
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    document = IssuedDocument.objects.filter(verification_code=cleaned).first()
    if document is None:
        return Verification(None, "unknown")
    if document.revoked_at is not None:
        return Verification(document, "revoked")
    if document.valid_until is not None and document.valid_until < timezone.localdate():
        return Verification(document, "expired")
    return Verification(document, "valid")


def verification_url(code: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("verify", args=[code])


def qr_png(code: str, *, scale: int = 4) -> bytes:
    """A PNG QR code pointing at the document's public verification page."""
    qr = segno.make(verification_url(code), error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=scale, border=2)
    return buffer.getvalue()
