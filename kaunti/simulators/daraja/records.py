"""What the simulator remembers, as frozen records, and the STK callback body it sends.

Records are replaced, never edited, so a snapshot handed to a test or a page stays true.
"""

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from kaunti.simulators.daraja.config import Script

# Safaricom writes the STK amount as `1.00`, which json.dumps cannot: a placeholder is
# swapped for the literal after encoding.
_AMOUNT_PLACEHOLDER: Final = "__KAUNTI_SIMULATOR_AMOUNT__"


class DeliveryKind(StrEnum):
    STK_CALLBACK = "stk_callback"
    C2B_VALIDATION = "c2b_validation"
    C2B_CONFIRMATION = "c2b_confirmation"


@dataclass(frozen=True)
class CallbackDelivery:
    """One POST the simulator made: where, what, and how the receiver answered.

    `status` is None when the receiver could not be reached (then `error` says why).
    """

    kind: DeliveryKind
    url: str
    payload: dict[str, object]
    body: str
    status: int | None
    response: str
    error: str
    delivered_at: datetime

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        data["kind"] = self.kind.value
        data["delivered_at"] = self.delivered_at.isoformat()
        return data


@dataclass(frozen=True)
class RecordedRequest:
    """One Daraja call received: tests read the exact JSON a client sent."""

    method: str
    path: str
    status: int
    body: dict[str, object] | None = None


@dataclass(frozen=True)
class Push:
    """One STK push; `result_code` is None while the customer has not answered."""

    merchant_request_id: str
    checkout_request_id: str
    msisdn: str
    amount: int
    account_reference: str
    description: str
    callback_url: str
    shortcode: str
    script: Script
    requested_at: datetime
    result_code: int | None = None
    result_desc: str = ""
    receipt_number: str = ""
    resolved_at: datetime | None = None

    @property
    def is_pending(self) -> bool:
        return self.result_code is None

    def as_json(self) -> dict[str, object]:
        return {
            "MerchantRequestID": self.merchant_request_id,
            "CheckoutRequestID": self.checkout_request_id,
            "PhoneNumber": self.msisdn,
            "Amount": self.amount,
            "AccountReference": self.account_reference,
            "CallBackURL": self.callback_url,
            "outcome": self.script.outcome.value,
            "delivery": self.script.delivery.value,
            "pending": self.is_pending,
            "ResultCode": self.result_code,
            "ResultDesc": self.result_desc,
            "MpesaReceiptNumber": self.receipt_number,
        }


@dataclass(frozen=True)
class C2BRegistration:
    shortcode: str
    response_type: str
    confirmation_url: str
    validation_url: str
    version: str


@dataclass(frozen=True)
class C2BResult:
    """How a paybill payment went: validated (or not), and confirmed (or not)."""

    trans_id: str
    accepted: bool
    detail: str

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def stk_callback_body(push: Push) -> str:
    """The exact JSON Safaricom POSTs to the CallBackURL (kenya.md 1.4.1)."""
    callback: dict[str, object] = {
        "MerchantRequestID": push.merchant_request_id,
        "CheckoutRequestID": push.checkout_request_id,
        "ResultCode": push.result_code,
        "ResultDesc": push.result_desc,
    }
    if push.result_code == 0 and push.resolved_at is not None:
        callback["CallbackMetadata"] = {
            "Item": [
                {"Name": "Amount", "Value": _AMOUNT_PLACEHOLDER},
                {"Name": "MpesaReceiptNumber", "Value": push.receipt_number},
                {"Name": "Balance"},
                {"Name": "TransactionDate", "Value": int(f"{push.resolved_at:%Y%m%d%H%M%S}")},
                {"Name": "PhoneNumber", "Value": int(push.msisdn)},
            ]
        }
    text = json.dumps({"Body": {"stkCallback": callback}})
    return text.replace(f'"{_AMOUNT_PLACEHOLDER}"', f"{push.amount}.00")


def stk_message(push: Push) -> str:
    if push.result_code == 0 and push.resolved_at is not None:
        return (
            f"{push.receipt_number} Confirmed. Ksh{push.amount:,}.00 sent to {push.shortcode} "
            f"for account {push.account_reference} on {push.resolved_at:%d/%m/%y at %H:%M}."
        )
    return (
        f"Ksh{push.amount:,}.00 to {push.shortcode} for account {push.account_reference} "
        f"not paid: {push.result_desc}"
    )
