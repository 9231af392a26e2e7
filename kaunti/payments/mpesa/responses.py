"""Daraja's answers to our calls, read into typed results or a `DarajaError`.

Safaricom answers failures with `{"requestId", "errorCode", "errorMessage"}` and a non-2xx
status, and successes with `ResponseCode` "0" (sometimes 0); both are read here so the
client only deals in results (shared/reference/kenya.md 1.3 and 1.8).
"""

from dataclasses import dataclass
from typing import Final

import httpx

JsonObject = dict[str, object]

# Safaricom's words for failures that will not heal by themselves (500.001.1001 is also
# the code of transient errors such as "Unable to lock subscriber").
_PERMANENT_SERVER_MESSAGES: Final = ("wrong credentials", "merchant does not exist")


class DarajaError(Exception):
    """Daraja refused a call or could not be reached.

    `error_code` and `message` are Safaricom's `errorCode` and `errorMessage` when it sent
    them. `retryable` means the failure looks transient (network, timeout, 5xx); for an STK
    push the prompt may nevertheless have reached the phone, so whether to push again is
    the caller's decision.
    """

    def __init__(
        self,
        message: str,
        *,
        error_code: str = "",
        http_status: int | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.error_code = error_code
        self.http_status = http_status
        self.retryable = retryable

    def __str__(self) -> str:
        details = [f"errorCode {self.error_code}"] if self.error_code else []
        if self.http_status is not None:
            details.append(f"HTTP {self.http_status}")
        return f"{self.message} ({', '.join(details)})" if details else self.message


@dataclass(frozen=True)
class StkPushAccepted:
    """Safaricom queued the prompt; the result arrives later by callback (or STK query)."""

    merchant_request_id: str
    checkout_request_id: str
    response_code: str
    customer_message: str


@dataclass(frozen=True)
class StkQueryResult:
    """Where an STK push stands: still pending, or final with Safaricom's result code."""

    pending: bool
    result_code: str | None
    result_desc: str

    @property
    def is_success(self) -> bool:
        return self.result_code == "0"


@dataclass(frozen=True)
class C2BAccepted:
    """Safaricom's acknowledgement of a C2B register or simulate call."""

    originator_conversation_id: str
    response_code: str
    response_description: str


def json_object(response: httpx.Response, path: str) -> JsonObject:
    """The JSON object of a 2xx answer, or the `DarajaError` its error body describes."""
    try:
        data = response.json()
    except ValueError:
        data = None
    status = response.status_code
    if not response.is_success:
        if isinstance(data, dict) and data.get("errorCode"):
            code = str(data["errorCode"])
            message = str(data.get("errorMessage", ""))
        else:
            code, message = "", f"Daraja answered HTTP {status} to {path}: {response.text[:200]}"
        raise DarajaError(
            message,
            error_code=code,
            http_status=status,
            retryable=is_retryable(status, message),
        )
    if not isinstance(data, dict):
        raise DarajaError(
            f"Daraja sent an unreadable answer to {path}: {response.text[:200]}",
            http_status=status,
            retryable=True,
        )
    return data


def is_retryable(status: int, message: str) -> bool:
    if status == 429:
        return True
    if status < 500:
        return False
    return not any(word in message.lower() for word in _PERMANENT_SERVER_MESSAGES)


def require_accepted(data: JsonObject, *, what: str) -> None:
    # ResponseCode is "0" in most answers and 0 in some (kenya.md 1.8, item 6).
    code = str(data.get("ResponseCode", "")).strip()
    if code != "0":
        raise DarajaError(
            f"Daraja did not accept {what}: {data.get('ResponseDescription', '')}",
            error_code=code,
            http_status=200,
        )


def c2b_accepted(data: JsonObject, *, what: str) -> C2BAccepted:
    require_accepted(data, what=what)
    # Safaricom spells it "OriginatorCoversationID" in these answers.
    conversation_id = data.get("OriginatorCoversationID", data.get("OriginatorConversationID"))
    return C2BAccepted(
        originator_conversation_id=str(conversation_id or ""),
        response_code="0",
        response_description=str(data.get("ResponseDescription", "")),
    )


def required_text(data: JsonObject, key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str | int) or not str(value).strip():
        raise DarajaError(f"Daraja's answer has no {key}", http_status=200, retryable=False)
    return str(value).strip()
