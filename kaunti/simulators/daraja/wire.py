"""Daraja's side of an HTTP exchange: its error body, and the checks its fields get.

Handlers are plain functions from `Request` to `Reply` (`kaunti.simulators.http`, the
plumbing both simulators share); a handler that must refuse deep inside its checks
raises `Refusal`.
"""

import re
from urllib.parse import urlsplit

from kaunti.simulators.daraja import ids
from kaunti.simulators.http import Reply, json_reply

_MSISDN = re.compile(r"^254(?:7|1)[0-9]{8}$")
_SHORTCODE = re.compile(r"^[0-9]{5,7}$")
_TIMESTAMP = re.compile(r"^[0-9]{14}$")
_WHOLE = re.compile(r"^[0-9]+$")


class Refusal(Exception):
    """Stop handling a request and answer with `reply`."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def error_reply(status: int, error_code: str, error_message: str) -> Reply:
    """Safaricom's generic error body (shared/reference/kenya.md 1.3)."""
    return json_reply(
        status,
        {"requestId": ids.request_id(), "errorCode": error_code, "errorMessage": error_message},
    )


def refuse(status: int, error_code: str, error_message: str) -> Refusal:
    return Refusal(error_reply(status, error_code, error_message))


# --- Field checks shared by the Daraja endpoints and the control endpoints -------------


def as_text(value: object) -> str | None:
    """A string or an integer as text; None for anything else (bool, float, list...)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value).strip()


def normalise_msisdn(raw: str) -> str | None:
    """`2547XXXXXXXX` from `07..`, `+254..` or `254..`; None if it is not a Kenyan mobile."""
    digits = re.sub(r"[\s\-]", "", raw)
    if digits.startswith("+"):
        digits = digits[1:]
    if digits.startswith("0") and len(digits) == 10:
        digits = "254" + digits[1:]
    return digits if _MSISDN.match(digits) else None


def msisdn_field(value: object) -> str | None:
    text = as_text(value)
    return text if text is not None and _MSISDN.match(text) else None


def shortcode_field(value: object) -> str | None:
    text = as_text(value)
    return text if text is not None and _SHORTCODE.match(text) else None


def whole_amount_field(value: object) -> int | None:
    """A whole number of shillings of at least 1, sent as an int or as digits."""
    text = as_text(value)
    if text is None or not _WHOLE.match(text) or len(text) > 12:
        return None
    amount = int(text)
    return amount if amount >= 1 else None


def timestamp_field(value: object) -> str | None:
    text = as_text(value)
    return text if text is not None and _TIMESTAMP.match(text) else None


def url_field(value: object) -> str | None:
    """An absolute http(s) URL with nothing stray around it (Safaricom is strict here)."""
    if not isinstance(value, str) or value != value.strip() or " " in value:
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    return value if parts.scheme in ("http", "https") and parts.netloc else None
