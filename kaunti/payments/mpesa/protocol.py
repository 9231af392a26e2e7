"""Daraja's wire-level facts: result and error codes, field limits, sandbox credentials.

Kept free of Django so the simulator and the client read the same tables
(shared/reference/kenya.md sections 1.1 to 1.5).
"""

from enum import IntEnum, StrEnum
from types import MappingProxyType
from typing import Final

SANDBOX_BASE_URL: Final = "https://sandbox.safaricom.co.ke"
PRODUCTION_BASE_URL: Final = "https://api.safaricom.co.ke"
# Public sandbox test credentials, published by Safaricom and quoted in many repositories.
SANDBOX_SHORTCODE: Final = "174379"
SANDBOX_PASSKEY: Final = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
SANDBOX_MSISDN: Final = "254708374149"

# Longer values are refused (AccountReference) or truncated (TransactionDesc) by the client.
ACCOUNT_REFERENCE_MAX_LENGTH: Final = 12
TRANSACTION_DESC_MAX_LENGTH: Final = 13
# The least M-Pesa carries in one payment (KES); the most is the setting MPESA_MAX_AMOUNT,
# which Safaricom changes now and then (shared/reference/kenya.md).
MPESA_MIN_AMOUNT: Final = 1
STK_TRANSACTION_TYPES: Final = ("CustomerPayBillOnline", "CustomerBuyGoodsOnline")
# What Safaricom does with a C2B payment when our validation URL does not answer.
C2B_RESPONSE_TYPES: Final = ("Completed", "Cancelled")
C2B_REGISTER_VERSIONS: Final = ("v1", "v2")


class StkResultCode(IntEnum):
    """`ResultCode` of an STK push callback (a number there; a string in the STK query)."""

    SUCCESS = 0
    INSUFFICIENT_FUNDS = 1
    INTERNAL_FAILURE = 17
    SYSTEM_BUSY = 26
    SUBSCRIBER_LOCKED = 1001
    EXPIRED = 1019
    PUSH_FAILED = 1025
    CANCELLED_BY_USER = 1032
    SMSC_ACK_TIMEOUT = 1036
    USER_UNREACHABLE = 1037
    WRONG_PIN = 2001
    PUSH_ERROR = 9999


# The descriptions Safaricom sends in `ResultDesc`, where they are known from real payloads;
# the others are plain wording of the documented meaning.
STK_RESULT_DESCRIPTIONS: Final = MappingProxyType(
    {
        StkResultCode.SUCCESS: "The service request is processed successfully.",
        StkResultCode.INSUFFICIENT_FUNDS: "The balance is insufficient for the transaction.",
        StkResultCode.INTERNAL_FAILURE: "Internal failure. Unable to process the request.",
        StkResultCode.SYSTEM_BUSY: "System busy. Try again later.",
        StkResultCode.SUBSCRIBER_LOCKED: (
            "Unable to lock subscriber, a transaction is already in process for the current subscriber"
        ),
        StkResultCode.EXPIRED: "Transaction has expired",
        StkResultCode.PUSH_FAILED: "An error occurred while sending a push request",
        StkResultCode.CANCELLED_BY_USER: "[STK_CB - ]Request cancelled by user",
        StkResultCode.SMSC_ACK_TIMEOUT: "[STK_CB - ]SMSC ACK timeout.",
        StkResultCode.USER_UNREACHABLE: "DS timeout user cannot be reached",
        StkResultCode.WRONG_PIN: "[MpesaCB - ]The initiator information is invalid.",
        StkResultCode.PUSH_ERROR: "An error occurred while sending a push request",
    }
)


class C2BValidationResult(StrEnum):
    """`ResultCode` we answer to a C2B validation request; anything but ACCEPTED rejects it."""

    ACCEPTED = "0"
    INVALID_MSISDN = "C2B00011"
    INVALID_ACCOUNT_NUMBER = "C2B00012"
    INVALID_AMOUNT = "C2B00013"
    INVALID_KYC_DETAILS = "C2B00014"
    INVALID_SHORTCODE = "C2B00015"
    OTHER_ERROR = "C2B00016"


C2B_VALIDATION_DESCRIPTIONS: Final = MappingProxyType(
    {
        C2BValidationResult.ACCEPTED: "Accepted",
        C2BValidationResult.INVALID_MSISDN: "Invalid MSISDN",
        C2BValidationResult.INVALID_ACCOUNT_NUMBER: "Invalid Account Number",
        C2BValidationResult.INVALID_AMOUNT: "Invalid Amount",
        C2BValidationResult.INVALID_KYC_DETAILS: "Invalid KYC Details",
        C2BValidationResult.INVALID_SHORTCODE: "Invalid Shortcode",
        C2BValidationResult.OTHER_ERROR: "Other Error",
    }
)

# Synchronous error codes (`errorCode` in the generic error body, section 1.3).
ERROR_BAD_REQUEST: Final = "400.002.02"
ERROR_INVALID_AUTHENTICATION: Final = "400.008.01"
ERROR_INVALID_GRANT_TYPE: Final = "400.008.02"
ERROR_NO_API_PRODUCT: Final = "401.003.01"
ERROR_INVALID_TOKEN: Final = "404.001.03"  # noqa: S105  (an error code, not a secret)
ERROR_INVALID_AUTHENTICATION_HEADER: Final = "404.001.04"
# On an STK push: wrong credentials (Password/Timestamp/passkey). On an STK query: pending.
ERROR_SERVER: Final = "500.001.1001"

STK_QUERY_PENDING_MESSAGE: Final = "The transaction is being processed"
WRONG_CREDENTIALS_MESSAGE: Final = "[MerchantValidate] - Wrong credentials"


def c2b_validation_response(
    result: C2BValidationResult, *, third_party_trans_id: str = ""
) -> dict[str, str]:
    """The JSON body to answer a C2B validation request with (section 1.5.2)."""
    body = {
        "ResultCode": result.value,
        "ResultDesc": "Accepted" if result is C2BValidationResult.ACCEPTED else "Rejected",
    }
    if third_party_trans_id:
        body["ThirdPartyTransID"] = third_party_trans_id
    return body


def callback_acknowledgement() -> dict[str, int | str]:
    """The JSON body to answer an STK callback or a C2B confirmation with: HTTP 200 and this."""
    return {"ResultCode": 0, "ResultDesc": "Success"}


def callback_refusal(reason: str) -> dict[str, int | str]:
    """The JSON body of a callback we did not keep (with a 4xx or 5xx, so it is sent again)."""
    return {"ResultCode": 1, "ResultDesc": reason}
