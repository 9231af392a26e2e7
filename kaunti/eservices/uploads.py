"""Checking an uploaded file before anything is stored: its name, its size, its content.

The content decides the type, never the name or the browser's claim: a Windows program
renamed `permit.pdf` starts with `MZ`, not `%PDF-`, and is refused. The name is kept only
to show back to its owner; a name that tries to climb folders is refused outright, and
the file is stored under a random name of our own.
"""

import hashlib
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from kaunti.eservices.definitions.documents import HARD_MAXIMUM_BYTES, JPEG, PDF, PNG

# Magic numbers (the first bytes of a file) of the types we accept.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", PDF),
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
)
EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png"}
TYPE_NAMES = {PDF: "PDF", JPEG: "JPEG", PNG: "PNG"}
MAX_NAME_LENGTH = 150


class Upload(Protocol):
    """What Django's `UploadedFile` (and `SimpleUploadedFile` in tests) provides."""

    name: str | None

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]: ...


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed every check, read into memory (at most 10 MB)."""

    display_name: str
    content: bytes
    content_type: str
    sha256: str

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type]


def sniff_content_type(head: bytes) -> str:
    """The type the first bytes show, or "" when they show none we accept."""
    for signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return content_type
    return ""


def clean_display_name(raw: str | None) -> str:
    """The file's own name, to show its owner; refused if it names a folder or a device."""
    name = unicodedata.normalize("NFC", raw or "").strip()
    if not name:
        raise ValidationError(_("The file has no name. Choose the file again."))
    if (
        "/" in name
        or "\\" in name
        or ".." in name
        or name.startswith(".")
        or ":" in name
        or any(unicodedata.category(ch).startswith("C") for ch in name)
    ):
        raise ValidationError(
            _(
                "The file name %(name)s is not allowed: it may not contain folders, '..', ':' "
                "or control characters. Rename the file and upload it again."
            )
            % {"name": repr(name[:60])}
        )
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError(
            _("The file name is too long (at most %(n)s characters). Rename the file.")
            % {"n": MAX_NAME_LENGTH}
        )
    return name


def check_upload(
    upload: Upload, *, content_types: frozenset[str], max_bytes: int, label: str
) -> CheckedUpload:
    """Read and check an upload; `ValidationError` with a message the applicant can act on."""
    display_name = clean_display_name(upload.name)
    limit = min(max_bytes, HARD_MAXIMUM_BYTES)
    buffer = bytearray()
    for chunk in upload.chunks():
        buffer.extend(chunk)
        if len(buffer) > limit:
            raise ValidationError(
                _("%(label)s: the file is larger than %(limit)s. Upload a smaller file.")
                % {"label": label, "limit": filesizeformat(limit)}
            )
    if not buffer:
        raise ValidationError(_("%(label)s: the file is empty.") % {"label": label})
    content = bytes(buffer)
    content_type = sniff_content_type(content[:16])
    if content_type not in content_types:
        allowed = " or ".join(sorted(TYPE_NAMES[t] for t in content_types))
        raise ValidationError(
            _(
                "%(label)s: this file is not a %(allowed)s file. We check what is inside the "
                "file, not its name: save or scan the document as %(allowed)s and upload it again."
            )
            % {"label": label, "allowed": allowed}
        )
    return CheckedUpload(
        display_name=display_name,
        content=content,
        content_type=content_type,
        sha256=hashlib.sha256(content).hexdigest(),
    )
