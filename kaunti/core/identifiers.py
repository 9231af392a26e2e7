"""Kenyan identifiers: mobile numbers, national ID numbers and KRA PINs.

Each `normalise_*` returns the canonical form or raises `ValidationError` with a message
in the active language. Mobile numbers are stored as Daraja wants them (`2547XXXXXXXX` or
`2541XXXXXXXX`, 12 digits, no "+"); `as_e164` adds the "+" Africa's Talking expects.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_SEPARATORS = re.compile(r"[\s\-().]")
# ASCII digits only, everywhere: `\d` and str.isdigit() also take 0712 written in full-width
# or Arabic-Indic digits (U+FF10..., U+0660...), a second spelling of the same number.
# Nine digits after 254, starting 7 or 1 (libphonenumber's Kenyan mobile ranges).
_MOBILE = re.compile(r"254(?:7[0-9]{8}|1[0-9]{8})")
_NATIONAL_ID = re.compile(r"[0-9]{6,9}")
_KRA_PIN = re.compile(r"[AP][0-9]{9}[A-Z]")
_ASCII_DIGITS = re.compile(r"[0-9]+")


def is_ascii_digits(text: str) -> bool:
    """Whether `text` is one or more of the digits 0 to 9 and nothing else."""
    return _ASCII_DIGITS.fullmatch(text) is not None


def normalise_phone(raw: str) -> str:
    """Return a Kenyan mobile number as `2547XXXXXXXX`/`2541XXXXXXXX`.

    Accepts `07..`, `01..`, `7..`, `1..`, `+254..` and `254..`, with spaces or dashes.
    """
    digits = _SEPARATORS.sub("", raw or "")
    if digits.startswith("+"):
        digits = digits[1:]
    if not is_ascii_digits(digits):
        raise ValidationError(
            _("Enter a phone number using digits only, like 0712 345 678."), code="phone_format"
        )
    if digits.startswith("0") and len(digits) == 10:
        digits = "254" + digits[1:]
    elif len(digits) == 9 and digits[0] in "71":
        digits = "254" + digits
    if not _MOBILE.fullmatch(digits):
        raise ValidationError(
            _("Enter a Kenyan mobile number, like 0712 345 678 or +254 712 345 678."),
            code="phone_invalid",
        )
    return digits


def as_e164(msisdn: str) -> str:
    """`2547XXXXXXXX` -> `+2547XXXXXXXX`."""
    return "+" + normalise_phone(msisdn)


def mask_phone(msisdn: str) -> str:
    """Show enough of a number for its owner to recognise it: `0712 *** 678`."""
    local = "0" + msisdn[3:]
    return f"{local[:4]} *** {local[-3:]}"


def normalise_national_id(raw: str) -> str:
    """Return a national ID number as digits (6 to 9; older cards have fewer digits)."""
    digits = _SEPARATORS.sub("", raw or "")
    if not _NATIONAL_ID.fullmatch(digits):
        raise ValidationError(
            _("Enter a national ID number of 6 to 9 digits, as printed on the card."),
            code="national_id_invalid",
        )
    return digits


def normalise_kra_pin(raw: str) -> str:
    """Return a KRA PIN: A or P, nine digits, a letter (e.g. A004416331M)."""
    pin = _SEPARATORS.sub("", raw or "").upper()
    if not _KRA_PIN.fullmatch(pin):
        raise ValidationError(
            _("Enter a KRA PIN: A or P, then 9 digits, then a letter (like A012345678B)."),
            code="kra_pin_invalid",
        )
    return pin
