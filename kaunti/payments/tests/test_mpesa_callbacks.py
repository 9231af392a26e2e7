"""Safaricom's callbacks, posted exactly as Safaricom sends them (shared/reference/kenya.md
1.4.1 and 1.5.2), to Kaunti's real endpoints: what is stored, recorded and answered."""

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.test import Client

from kaunti.accounts.models import Role, User
from kaunti.ledger.models import JournalEntry
from kaunti.ledger.selectors import get_account_balance, get_trial_balance
from kaunti.payments.models import (
    Bill,
    BillStatus,
    CallbackStatus,
    InboundCallback,
    Payment,
    Receipt,
    StkRequest,
    StkStatus,
)
from kaunti.payments.mpesa.client import DarajaClient
from kaunti.payments.mpesa.outbound import daraja_client, send_stk_push
from kaunti.payments.mpesa.stk import request_stk_push
from kaunti.payments.services.bills import cancel_bill
from kaunti.simulators.daraja import (
    DarajaSimulator,
)

pytestmark = pytest.mark.django_db

MakeBill = Callable[..., Bill]
STK_CALLBACK = "/payments/mpesa/stk/callback/{token}/"
VALIDATION = "/payments/mpesa/c2b/validation/{token}/"
CONFIRMATION = "/payments/mpesa/c2b/confirmation/{token}/"
ACKNOWLEDGED = {"ResultCode": 0, "ResultDesc": "Success"}
ACCEPTED = {"ResultCode": "0", "ResultDesc": "Accepted"}
INVALID_ACCOUNT = {"ResultCode": "C2B00012", "ResultDesc": "Rejected"}
INVALID_AMOUNT = {"ResultCode": "C2B00013", "ResultDesc": "Rejected"}


def url(template: str, token: str | None = None) -> str:
    return template.format(token=settings.MPESA_CALLBACK_TOKEN if token is None else token)


def c2b_body(
    bill_ref: str, *, trans_id: str = "RKTQDM7W6S", amount: str = "1500.00", balance: str = ""
) -> str:
    """A paybill payload as Safaricom writes it: every value a string."""
    return json.dumps(
        {
            "TransactionType": "Pay Bill",
            "TransID": trans_id,
            "TransTime": "20261122063845",
            "TransAmount": amount,
            "BusinessShortCode": "600638",
            "BillRefNumber": bill_ref,
            "InvoiceNumber": "",
            "OrgAccountBalance": balance,
            "ThirdPartyTransID": "",
            "MSISDN": "2547 ***** 126",
            "FirstName": "John",
            "MiddleName": "",
            "LastName": "Doe",
        }
    )


def stk_success_body(
    checkout_request_id: str, *, merchant_request_id: str = "29115-34620561-1", amount: int = 1500
) -> str:
    """An STK success callback, amount written `1500.00` as Safaricom does."""
    return f"""{{
  "Body": {{
    "stkCallback": {{
      "MerchantRequestID": "{merchant_request_id}",
      "CheckoutRequestID": "{checkout_request_id}",
      "ResultCode": 0,
      "ResultDesc": "The service request is processed successfully.",
      "CallbackMetadata": {{
        "Item": [
          {{ "Name": "Amount", "Value": {amount}.00 }},
          {{ "Name": "MpesaReceiptNumber", "Value": "TKR3X9PLQM" }},
          {{ "Name": "Balance" }},
          {{ "Name": "TransactionDate", "Value": 20261122102115 }},
          {{ "Name": "PhoneNumber", "Value": 254712000222 }}
        ]
      }}
    }}
  }}
}}"""


def stk_failure_body(checkout_request_id: str, code: int = 1032) -> str:
    descriptions = {
        1032: "[STK_CB - ]Request cancelled by user",
        2001: "[MpesaCB - ]The initiator information is invalid.",
    }
    return json.dumps(
        {
            "Body": {
                "stkCallback": {
                    "MerchantRequestID": "19919-3025233-1",
                    "CheckoutRequestID": checkout_request_id,
                    "ResultCode": code,
                    "ResultDesc": descriptions[code],
                }
            }
        }
    )


def post(client: Client, path: str, body: str | bytes, **extra: Any) -> Any:
    return client.post(path, body, content_type="application/json", **extra)


def state() -> tuple[int, int, int, int]:
    """What money-moving rows exist: payments, receipts, journal entries, callbacks kept."""
    return (
        Payment.objects.count(),
        Receipt.objects.count(),
        JournalEntry.objects.count(),
        InboundCallback.objects.count(),
    )


# --- The path token and the address allow-list ----------------------------------------------


@pytest.mark.parametrize(
    ("template", "body"),
    [
        (STK_CALLBACK, stk_success_body("ws_CO_22112026102115123254712000222")),
        (VALIDATION, c2b_body("ACDEFGHJK")),
        (CONFIRMATION, c2b_body("ACDEFGHJK")),
    ],
)
def test_a_wrong_token_is_a_404_and_nothing_is_stored(
    client: Client, make_bill: MakeBill, template: str, body: str
) -> None:
    make_bill(Decimal("1500.00"))
    before = state()

    response = post(client, url(template, token="guessed"), body)

    assert response.status_code == 404
    assert state() == before


def test_another_address_is_refused_with_403_and_kept_for_review(
    client: Client, make_bill: MakeBill, settings: Any
) -> None:
    settings.MPESA_ALLOWED_IPS = ["196.201.214.200", "196.201.213.114"]
    bill = make_bill(Decimal("1500.00"))
    body = c2b_body(bill.number)

    refused = post(client, url(CONFIRMATION), body, REMOTE_ADDR="203.0.113.9")

    assert refused.status_code == 403
    kept = InboundCallback.objects.get()
    assert (kept.kind, kept.status, kept.remote_addr, kept.body) == (
        "mpesa_c2b_confirmation",
        CallbackStatus.REVIEW,
        "203.0.113.9",
        body,
    )
    assert kept.error == "source address not on MPESA_ALLOWED_IPS"
    assert Payment.objects.count() == 0

    accepted = post(client, url(CONFIRMATION), body, REMOTE_ADDR="196.201.213.114")

    assert accepted.json() == ACKNOWLEDGED
    assert Payment.objects.get().amount == Decimal("1500.00")


# --- C2B validation ---------------------------------------------------------------------------


def test_validation_accepts_an_open_bill(client: Client, make_bill: MakeBill) -> None:
    bill = make_bill(Decimal("1500.00"))

    response = post(client, url(VALIDATION), c2b_body(f" {bill.number.lower()} "))

    assert response.status_code == 200
    assert response.json() == ACCEPTED
    callback = InboundCallback.objects.get()
    assert (callback.kind, callback.status, callback.reference) == (
        "mpesa_c2b_validation",
        CallbackStatus.PROCESSED,
        "RKTQDM7W6S",
    )
    assert Payment.objects.count() == 0  # validation only asks; the confirmation pays


def test_validation_rejects_an_unknown_cancelled_or_paid_bill_number(
    client: Client, make_bill: MakeBill, make_staff: Callable[..., User]
) -> None:
    cancelled = make_bill(Decimal("500.00"))
    cancel_bill(bill=cancelled, reason="Raised twice", actor=make_staff([Role.SUPERVISOR], "trade"))
    paid = make_bill(Decimal("300.00"))
    post(client, url(CONFIRMATION), c2b_body(paid.number, amount="300.00"))
    before = state()

    answers = [
        post(client, url(VALIDATION), c2b_body(number)).json()
        for number in ("ACDEFGHJK", cancelled.number, paid.number)
    ]

    assert answers == [INVALID_ACCOUNT, INVALID_ACCOUNT, INVALID_ACCOUNT]
    assert (
        list(
            InboundCallback.objects.filter(kind="mpesa_c2b_validation").values_list(
                "error", flat=True
            )
        )
        == ["rejected C2B00012"] * 3
    )
    assert state()[:3] == before[:3]


def test_validation_rejects_a_zero_amount(client: Client, make_bill: MakeBill) -> None:
    bill = make_bill(Decimal("1500.00"))

    response = post(client, url(VALIDATION), c2b_body(bill.number, amount="0.00"))

    assert response.json() == INVALID_AMOUNT
    assert Payment.objects.count() == 0


# --- C2B confirmation -------------------------------------------------------------------------


def test_a_confirmation_records_the_payment_and_is_acknowledged(
    client: Client, make_bill: MakeBill
) -> None:
    bill = make_bill(Decimal("1500.00"))

    response = post(client, url(CONFIRMATION), c2b_body(bill.number, balance="49197.00"))

    assert response.status_code == 200
    assert response.json() == ACKNOWLEDGED
    payment = Payment.objects.get()
    assert (payment.provider, payment.external_ref, payment.amount, payment.bill) == (
        "mpesa-c2b",
        "RKTQDM7W6S",
        Decimal("1500.00"),
        bill,
    )
    assert (payment.payer_name, payment.payer_phone) == ("John Doe", "2547 ***** 126")
    bill.refresh_from_db()
    assert (bill.status, bill.paid) == (BillStatus.PAID, Decimal("1500.00"))
    assert Receipt.objects.get().payment == payment
    callback = InboundCallback.objects.get()
    assert (callback.status, callback.reference) == (CallbackStatus.PROCESSED, "RKTQDM7W6S")
    assert get_account_balance(code="1100") == Decimal("1500.00")
    assert get_trial_balance().is_balanced


def test_the_same_trans_id_twice_records_one_payment(client: Client, make_bill: MakeBill) -> None:
    bill = make_bill(Decimal("1500.00"))
    body = c2b_body(bill.number, amount="1000.00")

    first = post(client, url(CONFIRMATION), body)
    second = post(client, url(CONFIRMATION), body)

    assert first.json() == second.json() == ACKNOWLEDGED
    assert Payment.objects.count() == 1
    assert Receipt.objects.count() == 1
    assert list(
        InboundCallback.objects.order_by("received_at", "pk").values_list("status", flat=True)
    ) == [
        CallbackStatus.PROCESSED,
        CallbackStatus.DUPLICATE,
    ]
    bill.refresh_from_db()
    assert (bill.paid, bill.status) == (Decimal("1000.00"), BillStatus.PARTLY_PAID)


def test_an_unknown_bill_number_lands_in_suspense(client: Client, make_bill: MakeBill) -> None:
    make_bill(Decimal("1500.00"))

    response = post(client, url(CONFIRMATION), c2b_body("NO SUCH BILL", amount="750.00"))

    assert response.json() == ACKNOWLEDGED
    payment = Payment.objects.get()
    assert (payment.is_in_suspense, payment.bill, payment.account_reference) == (
        True,
        None,
        "NO SUCH BILL",
    )
    assert get_account_balance(code="2100") == Decimal("-750.00")
    assert get_trial_balance().is_balanced


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"TransID=RKTQDM7W6S&TransAmount=10", "not JSON"),
        (
            json.dumps({k: v for k, v in json.loads(c2b_body("X")).items() if k != "TransID"}),
            "payload has no TransID",
        ),
        (c2b_body("ACDEFGHJK", amount="abc"), "TransAmount is not a number"),
    ],
)
def test_a_malformed_confirmation_is_acknowledged_kept_and_records_nothing(
    client: Client, make_bill: MakeBill, body: str | bytes, reason: str
) -> None:
    make_bill(Decimal("1500.00"))
    before = state()

    response = post(client, url(CONFIRMATION), body)

    assert response.status_code == 200
    assert response.json() == ACKNOWLEDGED
    callback = InboundCallback.objects.get()
    assert callback.status == CallbackStatus.MALFORMED
    assert callback.error.startswith(reason)
    assert callback.body == (body.decode() if isinstance(body, bytes) else body)
    assert state()[:3] == before[:3]


# --- STK callbacks ----------------------------------------------------------------------------


class CallbackFirst(httpx.HTTPTransport):
    """Safaricom's callback overtakes its own answer to the push (it happens): the callback
    is posted to Kaunti after Daraja answered but before Kaunti has read the answer."""

    def __init__(self, post_callback: Callable[[str], None]) -> None:
        super().__init__()
        self.post_callback = post_callback

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path == "/mpesa/stkpush/v1/processrequest":
            response.read()
            self.post_callback(response.json()["CheckoutRequestID"])
        return response


def test_a_callback_before_its_checkout_request_id_waits_and_is_then_applied(
    client: Client, make_bill: MakeBill, simulator: DarajaSimulator
) -> None:
    bill = make_bill(Decimal("1500.00"))
    stk = request_stk_push(bill=bill, phone="0712000222", actor=None)
    seen: list[tuple[str, int]] = []

    def post_callback(checkout_request_id: str) -> None:
        response = post(client, url(STK_CALLBACK), stk_success_body(checkout_request_id))
        assert response.json() == ACKNOWLEDGED
        callback = InboundCallback.objects.get()
        seen.append((callback.status, Payment.objects.count()))

    config = daraja_client().config
    send_stk_push(
        public_id=stk.public_id, client=DarajaClient(config, transport=CallbackFirst(post_callback))
    )

    assert seen == [(CallbackStatus.WAITING, 0)]
    stk.refresh_from_db()
    assert stk.status == StkStatus.PAID
    assert (stk.checkout_request_id or "").startswith("ws_CO_")
    callback = InboundCallback.objects.get()
    assert (callback.status, callback.reference) == (
        CallbackStatus.PROCESSED,
        stk.checkout_request_id,
    )
    payment = Payment.objects.get()
    assert (payment.provider, payment.external_ref, payment.mpesa_receipt, payment.amount) == (
        "mpesa-stk",
        stk.checkout_request_id,
        "TKR3X9PLQM",
        Decimal("1500.00"),
    )
    bill.refresh_from_db()
    assert bill.status == BillStatus.PAID


def test_success_twice_records_one_payment(client: Client, pending_stk: StkRequest) -> None:
    body = stk_success_body(pending_stk.checkout_request_id or "")

    answers = [post(client, url(STK_CALLBACK), body).json() for _ in range(2)]

    assert answers == [ACKNOWLEDGED, ACKNOWLEDGED]
    assert Payment.objects.count() == 1
    assert Receipt.objects.count() == 1
    assert list(InboundCallback.objects.order_by("pk").values_list("status", flat=True)) == [
        CallbackStatus.PROCESSED,
        CallbackStatus.DUPLICATE,
    ]
    pending_stk.refresh_from_db()
    assert (pending_stk.status, pending_stk.result_code) == (StkStatus.PAID, "0")


def test_a_failure_after_success_changes_nothing(client: Client, pending_stk: StkRequest) -> None:
    checkout_request_id = pending_stk.checkout_request_id or ""
    post(client, url(STK_CALLBACK), stk_success_body(checkout_request_id))
    pending_stk.refresh_from_db()
    paid = (pending_stk.status, pending_stk.result_code, pending_stk.result_desc)
    before = state()

    response = post(client, url(STK_CALLBACK), stk_failure_body(checkout_request_id))

    assert response.json() == ACKNOWLEDGED
    pending_stk.refresh_from_db()
    assert (pending_stk.status, pending_stk.result_code, pending_stk.result_desc) == paid
    assert paid[0] == StkStatus.PAID
    assert state()[:3] == before[:3]
    assert InboundCallback.objects.order_by("-pk").first().status == CallbackStatus.DUPLICATE  # type: ignore[union-attr]
    pending_stk.bill.refresh_from_db()
    assert pending_stk.bill.status == BillStatus.PAID


def test_a_repeated_failure_changes_nothing_the_second_time(
    client: Client, pending_stk: StkRequest
) -> None:
    checkout_request_id = pending_stk.checkout_request_id or ""

    first = post(client, url(STK_CALLBACK), stk_failure_body(checkout_request_id, code=2001))
    pending_stk.refresh_from_db()
    failed = (pending_stk.status, pending_stk.result_code, pending_stk.result_desc)
    second = post(client, url(STK_CALLBACK), stk_failure_body(checkout_request_id, code=1032))

    assert first.json() == second.json() == ACKNOWLEDGED
    assert failed == (StkStatus.FAILED, "2001", "[MpesaCB - ]The initiator information is invalid.")
    pending_stk.refresh_from_db()
    assert (pending_stk.status, pending_stk.result_code, pending_stk.result_desc) == failed
    assert list(InboundCallback.objects.order_by("pk").values_list("status", flat=True)) == [
        CallbackStatus.PROCESSED,
        CallbackStatus.DUPLICATE,
    ]
    assert Payment.objects.count() == 0
    pending_stk.bill.refresh_from_db()
    assert pending_stk.bill.status == BillStatus.OPEN


def test_a_malformed_stk_callback_is_acknowledged_and_kept(
    client: Client, pending_stk: StkRequest
) -> None:
    body = json.dumps({"Body": {"stkCallback": {"CheckoutRequestID": "ws_CO_1"}}})

    response = post(client, url(STK_CALLBACK), body)

    assert response.json() == ACKNOWLEDGED
    callback = InboundCallback.objects.get()
    assert callback.status == CallbackStatus.MALFORMED
    assert callback.error == "stkCallback has no MerchantRequestID"
    pending_stk.refresh_from_db()
    assert pending_stk.status == StkStatus.PENDING
    assert Payment.objects.count() == 0
