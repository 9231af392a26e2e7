"""Daraja client: OAuth, STK push and query, C2B URL registration and the sandbox C2B simulate.

Synchronous httpx with timeouts. Every failure is a `DarajaError` whose `retryable` says
whether trying again may help; refusals of our own inputs (an amount that is not whole
shillings, an account reference longer than 12 characters) are `ValueError`s raised before
anything leaves the process. The OAuth token is kept in the Django cache, so every app node
shares one token instead of each asking Safaricom for its own
(shared/reference/kenya.md section 1; ARCHITECTURE.md "Scaling past one machine").

The parsers for what Safaricom POSTs back (`parse_stk_callback`, `parse_c2b`) live in
`callbacks.py` and are re-exported here so callers need one import.
"""

import base64
import hashlib
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final, Literal
from urllib.parse import urlsplit

import httpx
from django.core.cache import cache as default_cache
from django.core.cache.backends.base import BaseCache
from django.core.exceptions import ValidationError

from kaunti.core.identifiers import normalise_phone
from kaunti.payments.mpesa.callbacks import (
    NAIROBI,
    C2BPayment,
    MalformedCallback,
    StkCallback,
    parse_c2b,
    parse_stk_callback,
)
from kaunti.payments.mpesa.protocol import (
    ACCOUNT_REFERENCE_MAX_LENGTH,
    C2B_REGISTER_VERSIONS,
    C2B_RESPONSE_TYPES,
    ERROR_INVALID_TOKEN,
    ERROR_SERVER,
    STK_QUERY_PENDING_MESSAGE,
    STK_TRANSACTION_TYPES,
    TRANSACTION_DESC_MAX_LENGTH,
)

__all__ = [
    "C2BAccepted",
    "C2BPayment",
    "DarajaClient",
    "DarajaConfig",
    "DarajaError",
    "MalformedCallback",
    "StkCallback",
    "StkPushAccepted",
    "StkQueryResult",
    "parse_c2b",
    "parse_stk_callback",
    "stk_password",
]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT: Final = httpx.Timeout(15.0, connect=5.0)
# Ask for a new token this long before Safaricom's expires_in runs out, so a token never
# expires between being read from the cache and reaching Safaricom.
TOKEN_REFRESH_MARGIN_SECONDS: Final = 60
TOKEN_CACHE_PREFIX: Final = "mpesa:daraja-token:"  # noqa: S105  (a cache key, not a secret)
# Safaricom's words for failures that will not heal by themselves (500.001.1001 is also
# the code of transient errors such as "Unable to lock subscriber").
_PERMANENT_SERVER_MESSAGES: Final = ("wrong credentials", "merchant does not exist")

_DIGITS: Final = re.compile(r"^[0-9]+$")

C2BRegisterVersion = Literal["v1", "v2"]
C2BResponseType = Literal["Completed", "Cancelled"]
JsonObject = dict[str, object]


@dataclass(frozen=True)
class DarajaConfig:
    """One Daraja app and shortcode; `callback_base_url` is where Safaricom reaches us."""

    base_url: str
    consumer_key: str
    consumer_secret: str = field(repr=False)
    shortcode: str
    passkey: str = field(repr=False)
    callback_base_url: str
    # The version must match the API product on the Daraja app (kenya.md 1.5.1).
    c2b_register_version: C2BRegisterVersion
    transaction_type: str = "CustomerPayBillOnline"

    def __post_init__(self) -> None:
        if urlsplit(self.base_url).scheme not in ("http", "https"):
            raise ValueError(f"Daraja base_url must be an http(s) URL, not {self.base_url!r}")
        if not _DIGITS.match(self.shortcode):
            raise ValueError(f"Daraja shortcode must be digits, not {self.shortcode!r}")
        if self.c2b_register_version not in C2B_REGISTER_VERSIONS:
            raise ValueError(
                f"c2b_register_version must be v1 or v2, not {self.c2b_register_version!r}"
            )
        if self.transaction_type not in STK_TRANSACTION_TYPES:
            raise ValueError(
                f"transaction_type must be one of {STK_TRANSACTION_TYPES}, "
                f"not {self.transaction_type!r}"
            )

    def callback_url(self, path: str) -> str:
        """The public URL Safaricom should call for `path` on our side."""
        return f"{self.callback_base_url.rstrip('/')}/{path.lstrip('/')}"


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


def stk_password(*, shortcode: str, passkey: str, timestamp: str) -> str:
    """`base64(shortcode + passkey + timestamp)`: the STK push and query password."""
    return base64.b64encode(f"{shortcode}{passkey}{timestamp}".encode()).decode("ascii")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class DarajaClient:
    """Calls Daraja for one `DarajaConfig`.

    `cache` holds the OAuth token (the default Django cache, Redis in production);
    `transport` and `clock` let tests drive it without the network or waiting an hour.
    """

    def __init__(
        self,
        config: DarajaConfig,
        *,
        cache: BaseCache | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], datetime] = _utc_now,
        token_refresh_margin_seconds: int = TOKEN_REFRESH_MARGIN_SECONDS,
    ) -> None:
        self.config = config
        self._cache = cache if cache is not None else default_cache
        self._timeout = timeout
        self._transport = transport
        self._clock = clock
        self._token_refresh_margin_seconds = token_refresh_margin_seconds
        self._base_url = config.base_url.rstrip("/")

    @property
    def token_cache_key(self) -> str:
        """The token's cache key: one per Daraja host and app, never the key itself."""
        digest = hashlib.sha256(
            f"{self._base_url}\n{self.config.consumer_key}".encode()
        ).hexdigest()
        return f"{TOKEN_CACHE_PREFIX}{digest[:32]}"

    # --- M-Pesa Express (STK push) ----------------------------------------------------

    def stk_push(
        self,
        *,
        phone: str,
        amount: int,
        account_reference: str,
        description: str,
        callback_url: str,
    ) -> StkPushAccepted:
        """Ask Safaricom to prompt `phone` for `amount` whole shillings (kenya.md 1.4)."""
        msisdn = _daraja_msisdn(phone)
        _check_whole_shillings(amount)
        reference = account_reference.strip()
        if not reference:
            raise ValueError("an STK push needs an account reference")
        if len(reference) > ACCOUNT_REFERENCE_MAX_LENGTH:
            # Refused, not cut: the reference is how the payer and the county match the money.
            raise ValueError(
                f"account reference {reference!r} is longer than "
                f"{ACCOUNT_REFERENCE_MAX_LENGTH} characters"
            )
        transaction_desc = description.strip()[:TRANSACTION_DESC_MAX_LENGTH].strip()
        if not transaction_desc:
            raise ValueError("an STK push needs a description")
        timestamp = self._timestamp()
        body: JsonObject = {
            "BusinessShortCode": int(self.config.shortcode),
            "Password": self._password(timestamp),
            "Timestamp": timestamp,
            "TransactionType": self.config.transaction_type,
            "Amount": amount,
            "PartyA": int(msisdn),
            "PartyB": int(self.config.shortcode),
            "PhoneNumber": int(msisdn),
            "CallBackURL": _check_url(callback_url, "callback_url"),
            "AccountReference": reference,
            "TransactionDesc": transaction_desc,
        }
        data = self._call("/mpesa/stkpush/v1/processrequest", body)
        _require_accepted(data, what="the STK push")
        return StkPushAccepted(
            merchant_request_id=_required_text(data, "MerchantRequestID"),
            checkout_request_id=_required_text(data, "CheckoutRequestID"),
            response_code="0",
            customer_message=str(data.get("CustomerMessage", "")),
        )

    def stk_query(self, *, checkout_request_id: str) -> StkQueryResult:
        """Ask where a push stands; the answer for a lost callback (kenya.md 1.4.3, 1.8)."""
        timestamp = self._timestamp()
        body: JsonObject = {
            "BusinessShortCode": int(self.config.shortcode),
            "Password": self._password(timestamp),
            "Timestamp": timestamp,
            "CheckoutRequestID": checkout_request_id,
        }
        try:
            data = self._call("/mpesa/stkpushquery/v1/query", body)
        except DarajaError as error:
            # Safaricom answers "still pending" with an error body, not with a status.
            if (
                error.error_code == ERROR_SERVER
                and STK_QUERY_PENDING_MESSAGE.lower() in error.message.lower()
            ):
                return StkQueryResult(pending=True, result_code=None, result_desc=error.message)
            raise
        _require_accepted(data, what="the STK query")
        result_code = data.get("ResultCode")
        if result_code is None:
            raise DarajaError(
                "Daraja's STK query answer has no ResultCode", http_status=200, retryable=True
            )
        return StkQueryResult(
            pending=False,
            result_code=str(result_code).strip(),
            result_desc=str(data.get("ResultDesc", "")),
        )

    # --- C2B (paybill) ----------------------------------------------------------------

    def register_c2b_urls(
        self,
        *,
        confirmation_url: str,
        validation_url: str,
        response_type: C2BResponseType = "Completed",
        shortcode: str | None = None,
    ) -> C2BAccepted:
        """Tell Safaricom where to send paybill payments (kenya.md 1.5.1).

        `response_type` is what Safaricom does when the validation URL does not answer.
        `shortcode` defaults to the config's; the sandbox's C2B shortcode differs from its
        STK one. Safaricom is said to refuse URLs containing words such as "mpesa" or "query".
        """
        if response_type not in C2B_RESPONSE_TYPES:
            raise ValueError(f"response_type must be Completed or Cancelled, not {response_type!r}")
        target = shortcode or self.config.shortcode
        body: JsonObject = {
            "ShortCode": int(_digits(target, "shortcode")),
            "ResponseType": response_type,
            "ConfirmationURL": _check_url(confirmation_url, "confirmation_url"),
            "ValidationURL": _check_url(validation_url, "validation_url"),
        }
        version = self.config.c2b_register_version
        data = self._call(f"/mpesa/c2b/{version}/registerurl", body)
        return _c2b_accepted(data, what="the C2B URL registration")

    def simulate_c2b(
        self,
        *,
        phone: str,
        amount: int,
        bill_ref_number: str,
        shortcode: str | None = None,
        command_id: str = "CustomerPayBillOnline",
    ) -> C2BAccepted:
        """Make the sandbox (or the local simulator) pay our paybill as a customer would."""
        msisdn = _daraja_msisdn(phone)
        _check_whole_shillings(amount)
        if command_id not in STK_TRANSACTION_TYPES:
            raise ValueError(f"command_id must be one of {STK_TRANSACTION_TYPES}")
        body: JsonObject = {
            "ShortCode": int(_digits(shortcode or self.config.shortcode, "shortcode")),
            "CommandID": command_id,
            "Amount": amount,
            "Msisdn": int(msisdn),
            "BillRefNumber": bill_ref_number,
        }
        data = self._call("/mpesa/c2b/v1/simulate", body)
        return _c2b_accepted(data, what="the C2B simulation")

    # --- OAuth and transport ------------------------------------------------------------

    def _call(self, path: str, body: JsonObject) -> JsonObject:
        """POST with a bearer token; an invalid token is dropped and the call made once more."""
        try:
            return self._post(path, body, token=self._access_token())
        except DarajaError as error:
            if error.error_code != ERROR_INVALID_TOKEN:
                raise
            logger.warning("Daraja refused the cached token for %s; fetching a new one", path)
            self._cache.delete(self.token_cache_key)
            try:
                return self._post(path, body, token=self._access_token())
            except DarajaError as second:
                if second.error_code == ERROR_INVALID_TOKEN:
                    second.retryable = False
                raise

    def _post(self, path: str, body: JsonObject, *, token: str) -> JsonObject:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        response = self._send("POST", path, headers=headers, json=body)
        return _json_object(response, path)

    def _access_token(self) -> str:
        """The shared token from the cache, or a new one from Safaricom."""
        now = self._clock().timestamp()
        cached = self._cache.get(self.token_cache_key)
        if isinstance(cached, dict):
            token, expires_at = cached.get("token"), cached.get("expires_at")
            if isinstance(token, str) and isinstance(expires_at, float) and expires_at > now:
                return token
        token, expires_in = self._fetch_token()
        lifetime = expires_in - self._token_refresh_margin_seconds
        if lifetime > 0:
            self._cache.set(
                self.token_cache_key,
                {"token": token, "expires_at": float(now + lifetime)},
                timeout=lifetime,
            )
        return token

    def _fetch_token(self) -> tuple[str, int]:
        path = "/oauth/v1/generate"
        response = self._send(
            "GET",
            path,
            params={"grant_type": "client_credentials"},
            auth=(self.config.consumer_key, self.config.consumer_secret),
        )
        data = _json_object(response, path)
        token = data.get("access_token")
        # expires_in arrives as a string ("3599"); accept a number too.
        expires_in = str(data.get("expires_in", "")).strip()
        if not isinstance(token, str) or not token or not _DIGITS.match(expires_in):
            raise DarajaError(
                "Daraja's OAuth answer has no usable access_token/expires_in",
                http_status=response.status_code,
                retryable=True,
            )
        return token, int(expires_in)

    def _send(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        json: JsonObject | None = None,
        params: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> httpx.Response:
        try:
            with httpx.Client(timeout=self._timeout, transport=self._transport) as http:
                return http.request(
                    method,
                    f"{self._base_url}{path}",
                    headers=headers,
                    json=json,
                    params=params,
                    auth=auth,
                )
        except httpx.TimeoutException as exc:
            raise DarajaError(f"Daraja did not answer {path} in time", retryable=True) from exc
        except httpx.HTTPError as exc:
            raise DarajaError(f"Daraja unreachable for {path}: {exc}", retryable=True) from exc

    def _timestamp(self) -> str:
        """Now in Nairobi as YYYYMMDDHHmmss, made once per call for Password and Timestamp."""
        return self._clock().astimezone(NAIROBI).strftime("%Y%m%d%H%M%S")

    def _password(self, timestamp: str) -> str:
        return stk_password(
            shortcode=self.config.shortcode, passkey=self.config.passkey, timestamp=timestamp
        )


def _json_object(response: httpx.Response, path: str) -> JsonObject:
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
            retryable=_is_retryable(status, message),
        )
    if not isinstance(data, dict):
        raise DarajaError(
            f"Daraja sent an unreadable answer to {path}: {response.text[:200]}",
            http_status=status,
            retryable=True,
        )
    return data


def _is_retryable(status: int, message: str) -> bool:
    if status == 429:
        return True
    if status < 500:
        return False
    return not any(word in message.lower() for word in _PERMANENT_SERVER_MESSAGES)


def _require_accepted(data: JsonObject, *, what: str) -> None:
    # ResponseCode is "0" in most answers and 0 in some (kenya.md 1.8, item 6).
    code = str(data.get("ResponseCode", "")).strip()
    if code != "0":
        raise DarajaError(
            f"Daraja did not accept {what}: {data.get('ResponseDescription', '')}",
            error_code=code,
            http_status=200,
        )


def _c2b_accepted(data: JsonObject, *, what: str) -> C2BAccepted:
    _require_accepted(data, what=what)
    # Safaricom spells it "OriginatorCoversationID" in these answers.
    conversation_id = data.get("OriginatorCoversationID", data.get("OriginatorConversationID"))
    return C2BAccepted(
        originator_conversation_id=str(conversation_id or ""),
        response_code="0",
        response_description=str(data.get("ResponseDescription", "")),
    )


def _required_text(data: JsonObject, key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str | int) or not str(value).strip():
        raise DarajaError(f"Daraja's answer has no {key}", http_status=200, retryable=False)
    return str(value).strip()


def _daraja_msisdn(phone: str) -> str:
    """`2547XXXXXXXX`, the only form Daraja takes, from any way a Kenyan writes a number."""
    try:
        return normalise_phone(phone)
    except ValidationError as exc:
        raise ValueError(f"{phone!r} is not a Kenyan mobile number") from exc


def _check_whole_shillings(amount: int) -> None:
    # bool is an int subclass; True must not become a one-shilling payment.
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValueError(
            f"M-Pesa takes whole shillings as an int, not {type(amount).__name__} {amount!r}"
        )
    if amount < 1:
        raise ValueError(f"M-Pesa amounts start at 1 shilling, not {amount}")


def _check_url(url: str, name: str) -> str:
    # Stray spaces are the usual cause of "Invalid CallBackURL" (kenya.md 1.4).
    cleaned = url.strip()
    parts = urlsplit(cleaned)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in cleaned:
        raise ValueError(f"{name} must be an absolute http(s) URL, not {url!r}")
    return cleaned


def _digits(value: str, name: str) -> str:
    cleaned = value.strip()
    if not _DIGITS.match(cleaned):
        raise ValueError(f"{name} must be digits, not {value!r}")
    return cleaned
