"""Daraja client: OAuth, STK push and query, C2B URL registration and the sandbox C2B simulate.

Synchronous httpx with timeouts. Every failure is a `DarajaError` whose `retryable` says
whether trying again may help; refusals of our own inputs (an amount that is not whole
shillings, an account reference longer than 12 characters) are `ValueError`s raised before
anything leaves the process. The OAuth token is kept in the Django cache, so every app node
shares one token instead of each asking Safaricom for its own
(shared/reference/kenya.md section 1; ARCHITECTURE.md "Scaling past one machine").

The config (`config.py`), the typed answers and `DarajaError` (`responses.py`) and the
parsers for what Safaricom POSTs back (`callbacks.py`) are re-exported here, so callers
need one import.
"""

import base64
import hashlib
import logging
from collections.abc import Callable, Mapping
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
from kaunti.payments.mpesa.config import DIGITS, C2BRegisterVersion, DarajaConfig
from kaunti.payments.mpesa.protocol import (
    ACCOUNT_REFERENCE_MAX_LENGTH,
    C2B_RESPONSE_TYPES,
    ERROR_INVALID_TOKEN,
    ERROR_SERVER,
    STK_QUERY_PENDING_MESSAGE,
    STK_TRANSACTION_TYPES,
    TRANSACTION_DESC_MAX_LENGTH,
)
from kaunti.payments.mpesa.responses import (
    C2BAccepted,
    DarajaError,
    JsonObject,
    StkPushAccepted,
    StkQueryResult,
    c2b_accepted,
    json_object,
    require_accepted,
    required_text,
)

__all__ = [
    "C2BAccepted",
    "C2BPayment",
    "C2BRegisterVersion",
    "C2BResponseType",
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

C2BResponseType = Literal["Completed", "Cancelled"]


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
        require_accepted(data, what="the STK push")
        return StkPushAccepted(
            merchant_request_id=required_text(data, "MerchantRequestID"),
            checkout_request_id=required_text(data, "CheckoutRequestID"),
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
        require_accepted(data, what="the STK query")
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
        return c2b_accepted(data, what="the C2B URL registration")

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
        return c2b_accepted(data, what="the C2B simulation")

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
        return json_object(response, path)

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
        data = json_object(response, path)
        token = data.get("access_token")
        # expires_in arrives as a string ("3599"); accept a number too.
        expires_in = str(data.get("expires_in", "")).strip()
        if not isinstance(token, str) or not token or not DIGITS.match(expires_in):
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
    if not DIGITS.match(cleaned):
        raise ValueError(f"{name} must be digits, not {value!r}")
    return cleaned
