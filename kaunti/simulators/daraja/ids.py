"""Identifiers shaped like Safaricom's, so code that stores or displays them meets real shapes.

MerchantRequestID `NNNNN-NNNNNNNN-N`; CheckoutRequestID `ws_CO_<DDMMYYYYHHMMSSmmm><msisdn>`;
M-Pesa receipts and C2B TransIDs are 10 characters of `[A-Z0-9]` starting with a letter
that advances each year (P in 2021, S in 2024, T in 2025) (shared/reference/kenya.md 1.9).
"""

import secrets
import string
from datetime import datetime

_RECEIPT_ALPHABET = string.ascii_uppercase + string.digits
_TOKEN_ALPHABET = string.ascii_letters + string.digits


def merchant_request_id() -> str:
    return f"{secrets.randbelow(90000) + 10000}-{secrets.randbelow(90000000) + 10000000}-1"


def request_id() -> str:
    """The `requestId` of an error body; Safaricom gives it the MerchantRequestID shape."""
    return merchant_request_id()


def checkout_request_id(*, msisdn: str, at: datetime) -> str:
    millis = at.microsecond // 1000
    return f"ws_CO_{at:%d%m%Y%H%M%S}{millis:03d}{msisdn}"


def receipt_number(*, at: datetime) -> str:
    year_letter = chr(min(ord("Z"), max(ord("A"), ord("P") + at.year - 2021)))
    return year_letter + "".join(secrets.choice(_RECEIPT_ALPHABET) for _ in range(9))


def conversation_id() -> str:
    """`OriginatorCoversationID` of C2B answers, e.g. `7619-37765134-1`."""
    return f"{secrets.randbelow(9000) + 1000}-{secrets.randbelow(90000000) + 10000000}-1"


def access_token() -> str:
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(28))
