"""The documents a version asks for: which kinds, which file types, how large at most."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kaunti.eservices.definitions.form import NAME
from kaunti.eservices.definitions.language import pick

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
KNOWN_CONTENT_TYPES = frozenset({PDF, JPEG, PNG})
HARD_MAXIMUM_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class DocumentSpec:
    """A document an applicant uploads: which kind, which file types, how large at most."""

    kind: str
    label_en: str
    label_sw: str
    required: bool
    content_types: frozenset[str]
    max_bytes: int
    # On a renewal a document may be skipped (the county has last year's), unless one of
    # the answers in `required_again_if_changed` differs from the renewed application's.
    required_on_renewal: bool = True
    required_again_if_changed: tuple[str, ...] = ()

    def label(self, language: str) -> str:
        return pick(language, self.label_en, self.label_sw)

    def is_required(self, *, changed_answers: frozenset[str] | None) -> bool:
        """Whether this document must be uploaded: `changed_answers` is None for a new
        application, and the names of the answers changed since last time for a renewal."""
        if not self.required:
            return False
        if changed_answers is None or self.required_on_renewal:
            return True
        return bool(changed_answers & set(self.required_again_if_changed))


def parse_documents(raw: Any) -> tuple[DocumentSpec, ...]:
    """Check the list of documents a version asks for (PDF, JPEG, PNG only; 10 MB at most)."""
    if not isinstance(raw, list):
        raise ValidationError(_("Required documents must be a list."))
    specs: list[DocumentSpec] = []
    seen: set[str] = set()
    for item in raw:
        if not isinstance(item, Mapping):
            raise ValidationError(_("Each required document is an object."))
        kind = str(item.get("kind", ""))
        if not NAME.match(kind) or kind in seen:
            raise ValidationError(
                _("Document kind %(kind)s is missing, malformed or repeated.") % {"kind": kind}
            )
        seen.add(kind)
        content_types = frozenset(item.get("content_types", [PDF]))
        if not content_types or not content_types <= KNOWN_CONTENT_TYPES:
            raise ValidationError(
                _("Document %(kind)s: allowed types are PDF, JPEG and PNG.") % {"kind": kind}
            )
        max_bytes = item.get("max_bytes", 5 * 1024 * 1024)
        if not isinstance(max_bytes, int) or not 0 < max_bytes <= HARD_MAXIMUM_BYTES:
            raise ValidationError(
                _("Document %(kind)s: the size limit must be between 1 byte and 10 MB.")
                % {"kind": kind}
            )
        again = item.get("required_again_if_changed", [])
        if not isinstance(again, list) or not all(isinstance(name, str) for name in again):
            raise ValidationError(
                _("Document %(kind)s: required_again_if_changed lists field names.")
                % {"kind": kind}
            )
        specs.append(
            DocumentSpec(
                kind=kind,
                label_en=str(item.get("label_en", kind)),
                label_sw=str(item.get("label_sw", "")),
                required=bool(item.get("required", True)),
                content_types=content_types,
                max_bytes=max_bytes,
                required_on_renewal=bool(item.get("required_on_renewal", True)),
                required_again_if_changed=tuple(again),
            )
        )
    return tuple(specs)
