"""Money in Kenya shillings: `Decimal` with two places and one rounding rule.

Amounts are rounded half-up to the cent (the rule a cashier applies). M-Pesa takes whole
shillings only, so a bill's amount is rounded *up* to the next shilling for a push:
rounding down would leave a few cents owing for ever.
"""

import re
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

CENT = Decimal("0.01")
SHILLING = Decimal("1")
ZERO = Decimal("0.00")
MAX_DIGITS = 14
DECIMAL_PLACES = 2
# ASCII digits with at most one decimal point and an optional minus sign. Decimal() alone
# also reads 100 in full-width digits (U+FF11 U+FF10 U+FF10) or 300 in Arabic-Indic ones,
# "1e3", "NaN" and "1_000": none of them is an amount a person or a provider means to send.
_ASCII_AMOUNT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?", re.ASCII)


def is_ascii_amount(text: str) -> bool:
    """Whether `text` is an amount written plainly: ASCII digits, at most one point."""
    return _ASCII_AMOUNT.fullmatch(text) is not None


def parse_amount(text: str) -> Decimal:
    """Read an amount typed or sent as text (surrounding spaces allowed), in ASCII digits only.

    The result is exact (not rounded); callers decide how many places they accept.
    """
    stripped = text.strip()
    if not is_ascii_amount(stripped):
        raise ValidationError(
            _("Enter an amount in shillings, like 1500 or 1500.50."), code="amount"
        )
    return Decimal(stripped)


def kes(value: Decimal | int | str) -> Decimal:
    """Return `value` as a KES amount with two places, rounded half-up.

    Floats are refused: they cannot hold most cent amounts exactly.
    """
    if isinstance(value, float):
        raise TypeError("money must not be a float; pass a Decimal, int or str")
    if isinstance(value, str):
        amount = parse_amount(value)
    else:
        try:
            amount = Decimal(value)
        except (InvalidOperation, ValueError) as exc:
            raise ValidationError(
                _("Enter an amount in shillings, like 1500 or 1500.50."), code="amount"
            ) from exc
    if not amount.is_finite():
        raise ValidationError(
            _("Enter an amount in shillings, like 1500 or 1500.50."), code="amount"
        )
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def whole_shillings_for_mpesa(value: Decimal) -> int:
    """The whole-shilling amount M-Pesa should collect for `value` (never less than owed)."""
    return int(kes(value).quantize(SHILLING, rounding=ROUND_CEILING))


def format_amount(value: Decimal | int | str) -> str:
    """`Decimal("1234.5")` -> `"1,234.50"`: the one way an amount is written, in any language.

    Comma thousands and a point before the cents in English and Kiswahili alike: it is how
    Kenyan banks, M-Pesa messages and KRA forms write shillings (docs/glossary.md).
    """
    return f"{kes(value):,.2f}"


def format_kes(value: Decimal | int | str) -> str:
    """`Decimal("1234.5")` -> `"KES 1,234.50"`, on every page, PDF, SMS and USSD screen."""
    return f"KES {format_amount(value)}"


def financial_year(day: date) -> int:
    """Kenyan public finance years run July to June; 2026 means 2026/27."""
    return day.year if day.month >= 7 else day.year - 1
