"""The Daraja endpoints, checked the way the sandbox checks them.

OAuth with Basic auth; every other call with a Bearer token (404.001.03 when it is unknown
or expired). STK push recomputes the password and answers a mismatch with HTTP 500
"[MerchantValidate] - Wrong credentials"; a bad field gets HTTP 400 "Bad Request - Invalid
<Field>". Where Safaricom's exact answer is undocumented (simulate to a shortcode with no
registered URLs), the wording is the simulator's own and says so
(shared/reference/kenya.md 1.2 to 1.5 and 1.9).
"""

import base64
import binascii
import logging
from datetime import datetime
from typing import TypeVar

from kaunti.payments.mpesa.protocol import (
    ACCOUNT_REFERENCE_MAX_LENGTH,
    C2B_RESPONSE_TYPES,
    ERROR_BAD_REQUEST,
    ERROR_INVALID_AUTHENTICATION,
    ERROR_INVALID_AUTHENTICATION_HEADER,
    ERROR_INVALID_GRANT_TYPE,
    ERROR_INVALID_TOKEN,
    ERROR_NO_API_PRODUCT,
    ERROR_SERVER,
    STK_QUERY_PENDING_MESSAGE,
    STK_TRANSACTION_TYPES,
    TRANSACTION_DESC_MAX_LENGTH,
    WRONG_CREDENTIALS_MESSAGE,
)
from kaunti.simulators.daraja import ids
from kaunti.simulators.daraja.records import C2BRegistration
from kaunti.simulators.daraja.state import SimulatorState, SubscriberLocked
from kaunti.simulators.daraja.wire import (
    as_text,
    error_reply,
    msisdn_field,
    refuse,
    shortcode_field,
    timestamp_field,
    url_field,
    whole_amount_field,
)
from kaunti.simulators.http import Reply, Request, json_reply

T = TypeVar("T")

logger = logging.getLogger(__name__)

# Words in a C2B URL that Safaricom is reported to refuse (kenya.md 1.5.1).
FORBIDDEN_URL_WORDS = ("m-pesa", "mpesa", "safaricom", "exe", "exec", "cmd", "sql", "query")


def oauth_generate(state: SimulatorState, request: Request) -> Reply:
    """GET /oauth/v1/generate?grant_type=client_credentials with Basic auth."""
    if request.query.get("grant_type") != "client_credentials":
        return error_reply(400, ERROR_INVALID_GRANT_TYPE, "Invalid grant type passed")
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return error_reply(400, ERROR_INVALID_AUTHENTICATION, "Invalid authentication type passed")
    try:
        key, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return error_reply(400, ERROR_INVALID_AUTHENTICATION, "Invalid Authentication passed")
    if (key, secret) != (state.config.consumer_key, state.config.consumer_secret):
        return error_reply(400, ERROR_INVALID_AUTHENTICATION, "Invalid Authentication passed")
    token, expires_in = state.issue_token()
    # expires_in is a string on the wire, as Safaricom sends it.
    return json_reply(200, {"access_token": token, "expires_in": str(expires_in)})


def stk_push(state: SimulatorState, request: Request) -> Reply:
    """POST /mpesa/stkpush/v1/processrequest."""
    _check_bearer(state, request)
    body = request.json_object()
    if body is None:
        # What the sandbox says to a form-encoded body (kenya.md 1.3).
        return _invalid("BusinessShortCode")
    shortcode = _required(shortcode_field(body.get("BusinessShortCode")), "BusinessShortCode")
    timestamp = _timestamp(body)
    if body.get("TransactionType") not in STK_TRANSACTION_TYPES:
        return _invalid("TransactionType")
    amount = _required(whole_amount_field(body.get("Amount")), "Amount")
    _required(msisdn_field(body.get("PartyA")), "PartyA")
    _required(shortcode_field(body.get("PartyB")), "PartyB")
    msisdn = _required(msisdn_field(body.get("PhoneNumber")), "PhoneNumber")
    callback_url = _required(url_field(body.get("CallBackURL")), "CallBackURL")
    reference = _bounded_text(body, "AccountReference", ACCOUNT_REFERENCE_MAX_LENGTH)
    description = _bounded_text(body, "TransactionDesc", TRANSACTION_DESC_MAX_LENGTH)
    _check_credentials(state, shortcode=shortcode, timestamp=timestamp, body=body)
    try:
        push = state.create_push(
            msisdn=msisdn,
            amount=amount,
            account_reference=reference,
            description=description,
            callback_url=callback_url,
            shortcode=shortcode,
        )
    except SubscriberLocked:
        return error_reply(
            500,
            ERROR_SERVER,
            "Unable to lock subscriber, a transaction is already in process for the current "
            "subscriber",
        )
    return json_reply(
        200,
        {
            "MerchantRequestID": push.merchant_request_id,
            "CheckoutRequestID": push.checkout_request_id,
            "ResponseCode": "0",
            "ResponseDescription": "Success. Request accepted for processing",
            "CustomerMessage": "Success. Request accepted for processing",
        },
        # The outcome is played only once this answer is out, so a callback never
        # overtakes the response that announces its CheckoutRequestID.
        after=lambda: state.start_processing(push.checkout_request_id),
    )


def stk_query(state: SimulatorState, request: Request) -> Reply:
    """POST /mpesa/stkpushquery/v1/query: pending is an error body, final a ResultCode string."""
    _check_bearer(state, request)
    body = request.json_object()
    if body is None:
        return _invalid("BusinessShortCode")
    shortcode = _required(shortcode_field(body.get("BusinessShortCode")), "BusinessShortCode")
    timestamp = _timestamp(body)
    checkout_request_id = _required(as_text(body.get("CheckoutRequestID")), "CheckoutRequestID")
    _check_credentials(state, shortcode=shortcode, timestamp=timestamp, body=body)
    push = state.push(checkout_request_id)
    if push is None:
        return _invalid("CheckoutRequestID")
    if push.is_pending:
        return error_reply(500, ERROR_SERVER, STK_QUERY_PENDING_MESSAGE)
    return json_reply(
        200,
        {
            "ResponseCode": "0",
            "ResponseDescription": "The service request has been accepted successfully",
            "MerchantRequestID": push.merchant_request_id,
            "CheckoutRequestID": push.checkout_request_id,
            "ResultCode": str(push.result_code),
            "ResultDesc": push.result_desc,
        },
    )


def c2b_register(state: SimulatorState, request: Request, *, version: str) -> Reply:
    """POST /mpesa/c2b/{v1,v2}/registerurl; the answer keeps Safaricom's typo."""
    _check_bearer(state, request)
    if version not in state.config.c2b_register_versions:
        return error_reply(
            401,
            ERROR_NO_API_PRODUCT,
            "Invalid Access Token - Invalid API call as no apiproduct match found",
        )
    body = request.json_object()
    if body is None:
        return error_reply(400, "400.002.05", "Invalid Request Payload")
    shortcode = _required(shortcode_field(body.get("ShortCode")), "ShortCode")
    response_type = body.get("ResponseType")
    if response_type not in C2B_RESPONSE_TYPES:
        return _invalid("ResponseType")
    urls = {}
    for name in ("ConfirmationURL", "ValidationURL"):
        url = _required(url_field(body.get(name)), name)
        forbidden = [word for word in FORBIDDEN_URL_WORDS if word in url.lower()]
        if forbidden and state.config.refuse_forbidden_url_words:
            logger.warning(
                "Refused %s %s: Safaricom is reported to refuse C2B URLs containing %s",
                name,
                url,
                ", ".join(repr(word) for word in forbidden),
            )
            return _invalid(name)
        urls[name] = url
    state.register_c2b(
        C2BRegistration(
            shortcode=shortcode,
            response_type=str(response_type),
            confirmation_url=urls["ConfirmationURL"],
            validation_url=urls["ValidationURL"],
            version=version,
        )
    )
    return json_reply(
        200,
        {
            "OriginatorCoversationID": ids.conversation_id(),
            "ResponseCode": "0",
            "ResponseDescription": "success",
        },
    )


def c2b_simulate(state: SimulatorState, request: Request) -> Reply:
    """POST /mpesa/c2b/v1/simulate: acknowledge, then validation and confirmation."""
    _check_bearer(state, request)
    body = request.json_object()
    if body is None:
        return error_reply(400, "400.002.05", "Invalid Request Payload")
    shortcode = _required(shortcode_field(body.get("ShortCode")), "ShortCode")
    command_id = body.get("CommandID")
    if command_id not in STK_TRANSACTION_TYPES:
        return _invalid("CommandID")
    amount = _required(whole_amount_field(body.get("Amount")), "Amount")
    msisdn = _required(msisdn_field(body.get("Msisdn")), "Msisdn")
    bill_ref = as_text(body.get("BillRefNumber"))
    if bill_ref is None:
        return _invalid("BillRefNumber")
    if state.registration(shortcode) is None:
        # The simulator's own wording: Safaricom's answer here is undocumented.
        return error_reply(400, ERROR_BAD_REQUEST, "Bad Request - No URLs registered for ShortCode")
    return json_reply(
        200,
        {
            "OriginatorCoversationID": ids.conversation_id(),
            "ResponseCode": "0",
            "ResponseDescription": "Accept the service request successfully.",
        },
        after=lambda: state.pay_bill_in_background(
            msisdn=msisdn,
            shortcode=shortcode,
            amount=amount,
            account=bill_ref,
            command_id=str(command_id),
        ),
    )


def _check_bearer(state: SimulatorState, request: Request) -> None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise refuse(404, ERROR_INVALID_AUTHENTICATION_HEADER, "Invalid Authentication Header")
    if not state.token_is_valid(token.strip()):
        raise refuse(404, ERROR_INVALID_TOKEN, "Invalid Access Token")


def _check_credentials(
    state: SimulatorState, *, shortcode: str, timestamp: str, body: dict[str, object]
) -> None:
    """The shortcode must be ours and Password = base64(shortcode + passkey + Timestamp)."""
    if shortcode != state.config.shortcode:
        raise refuse(500, ERROR_SERVER, "Merchant does not exist")
    expected = base64.b64encode(f"{shortcode}{state.config.passkey}{timestamp}".encode()).decode()
    if body.get("Password") != expected:
        raise refuse(500, ERROR_SERVER, WRONG_CREDENTIALS_MESSAGE)


def _timestamp(body: dict[str, object]) -> str:
    timestamp = _required(timestamp_field(body.get("Timestamp")), "Timestamp")
    try:
        datetime.strptime(timestamp, "%Y%m%d%H%M%S")  # a real date, not just 14 digits
    except ValueError:
        raise refuse(400, ERROR_BAD_REQUEST, "Bad Request - Invalid Timestamp") from None
    return timestamp


def _bounded_text(body: dict[str, object], name: str, max_length: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise refuse(400, ERROR_BAD_REQUEST, f"Bad Request - Invalid {name}")
    return value


def _required(value: T | None, name: str) -> T:
    if value is None:
        raise refuse(400, ERROR_BAD_REQUEST, f"Bad Request - Invalid {name}")
    return value


def _invalid(name: str) -> Reply:
    return error_reply(400, ERROR_BAD_REQUEST, f"Bad Request - Invalid {name}")
