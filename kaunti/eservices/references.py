"""Public references: `APP-XXXXXXX` for applications, `CMP-XXXXXXX` for complaints.

Seven characters from the alphabet of verification codes (no 0/O, 1/I/L, 2/Z, 5/S, 8/B):
read aloud over the phone and typed without confusion, and, at 25^7 (about 6 billion),
not worth guessing. Uniqueness is the database's job; callers retry on a collision.
"""

import secrets

from kaunti.core.services.documents import CODE_ALPHABET

REFERENCE_LENGTH = 7
APPLICATION_PREFIX = "APP-"
COMPLAINT_PREFIX = "CMP-"


def _body() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def new_application_reference() -> str:
    """A fresh `APP-XXXXXXX` (the caller retries if the database finds it taken)."""
    return APPLICATION_PREFIX + _body()


def new_complaint_reference() -> str:
    """A fresh `CMP-XXXXXXX` (the caller retries if the database finds it taken)."""
    return COMPLAINT_PREFIX + _body()


def normalise_reference(raw: str) -> str:
    """What someone typed, as stored: upper case, no spaces; the dash put back if left out."""
    text = "".join(ch for ch in (raw or "").upper() if ch.isalnum())
    if len(text) == 3 + REFERENCE_LENGTH:
        return f"{text[:3]}-{text[3:]}"
    return text


def document_number(*, prefix: str, year: int, reference: str) -> str:
    """`UBP/2026/7KQ3MXA`: the service's prefix, the year of issue, the application's code."""
    return f"{prefix.upper()}/{year}/{reference.split('-', 1)[-1]}"


def reference_from_document_number(raw: str) -> str:
    """The application reference inside a document number someone typed (`ubp/2026/7kq3mxa`
    gives `APP-7KQ3MXA`), or "" when it does not look like one."""
    parts = "".join((raw or "").split()).upper().split("/")
    if len(parts) != 3 or len(parts[2]) != REFERENCE_LENGTH or not parts[2].isalnum():
        return ""
    return APPLICATION_PREFIX + parts[2]


def normalise_document_number(raw: str) -> str:
    """A document number as printed: capitals, no spaces."""
    return "".join((raw or "").split()).upper()
