"""The simulator's view of one HTTP exchange: a parsed request in, a reply out.

Handlers are plain functions from `Request` to `Reply`, so the HTTP plumbing stays in
`server.py`; a handler that must refuse deep inside its checks raises `Refusal`.
"""

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from kaunti.payments.mpesa.simulator import ids

_MSISDN = re.compile(r"^254(?:7|1)[0-9]{8}$")
_SHORTCODE = re.compile(r"^[0-9]{5,7}$")
_TIMESTAMP = re.compile(r"^[0-9]{14}$")
_WHOLE = re.compile(r"^[0-9]+$")


@dataclass(frozen=True)
class Request:
    """One request; header names are lower-cased, query values are the first given."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes

    def json_object(self) -> dict[str, object] | None:
        """The body as a JSON object, or None when it is not one."""
        try:
            data = json.loads(self.body)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def form(self) -> dict[str, str]:
        """A urlencoded form body, first value of each field."""
        parsed = parse_qs(self.body.decode("utf-8", errors="replace"), keep_blank_values=True)
        return {name: values[0] for name, values in parsed.items()}


@dataclass(frozen=True)
class Reply:
    """What to answer; `after` runs once the answer has been sent (e.g. a callback that
    must not overtake the response it follows)."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    after: Callable[[], None] | None = field(default=None, compare=False)


class Refusal(Exception):
    """Stop handling a request and answer with `reply`."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def json_reply(
    status: int, data: Mapping[str, object], *, after: Callable[[], None] | None = None
) -> Reply:
    return Reply(status=status, body=json.dumps(data).encode(), after=after)


def error_reply(status: int, error_code: str, error_message: str) -> Reply:
    """Safaricom's generic error body (shared/reference/kenya.md 1.3)."""
    return json_reply(
        status,
        {"requestId": ids.request_id(), "errorCode": error_code, "errorMessage": error_message},
    )


def refuse(status: int, error_code: str, error_message: str) -> Refusal:
    return Refusal(error_reply(status, error_code, error_message))


def redirect(location: str) -> Reply:
    """303 See Other: the phone page's post/redirect/get."""
    return Reply(status=303, content_type="text/plain", headers=(("Location", location),))


def html_reply(status: int, html: str) -> Reply:
    return Reply(status=status, body=html.encode(), content_type="text/html; charset=utf-8")


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
