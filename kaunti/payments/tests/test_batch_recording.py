"""Recording payments in batches: what a batch records must be what one-by-one recording
would have, and a confirmation answered before it is recorded must still be recorded once.
"""

import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.test import Client

from kaunti.core.models import AuditEvent, Department, OutboxMessage
from kaunti.core.services.audit import find_first_broken_link
from kaunti.ledger.models import JournalEntry
from kaunti.ledger.selectors import get_account_balance, get_trial_balance
from kaunti.ledger.services import Line, post_entry
from kaunti.payments.models import (
    Bill,
    BillLine,
    BillStatus,
    CallbackDrain,
    CallbackStatus,
    DailyCollection,
    InboundCallback,
    PayerCredit,
    Payment,
    Receipt,
    RevenueStream,
)
from kaunti.payments.mpesa import receive
from kaunti.payments.mpesa.c2b import drain_c2b_confirmations
from kaunti.payments.mpesa.inbound import MAX_CONFIRMATION_ATTEMPTS
from kaunti.payments.mpesa.stk import request_stk_push
from kaunti.payments.numbering import new_bill_number
from kaunti.payments.services import recording
from kaunti.payments.services.bills import cancel_bill
from kaunti.payments.services.callback_store import store_callback
from kaunti.payments.services.recording import IncomingPayment, record_payments

pytestmark = pytest.mark.django_db

MakeBill = Callable[..., Bill]
CONFIRMATION = f"/payments/mpesa/c2b/confirmation/{settings.MPESA_CALLBACK_TOKEN}/"
PAID_AT = datetime(2026, 11, 22, 9, 30, tzinfo=ZoneInfo("Africa/Nairobi"))


def paybill(reference: str, bill_number: str, amount: str) -> IncomingPayment:
    return IncomingPayment(
        provider="mpesa-c2b",
        external_ref=reference,
        channel="mpesa_paybill",
        amount=Decimal(amount),
        paid_at=PAID_AT,
        bill_number=bill_number,
        payer_phone="254712000333",
        mpesa_receipt=reference,
    )


def c2b_body(bill_ref: str, trans_id: str, amount: str) -> bytes:
    return json.dumps(
        {
            "TransactionType": "Pay Bill",
            "TransID": trans_id,
            "TransTime": "20261122063845",
            "TransAmount": amount,
            "BusinessShortCode": "600638",
            "BillRefNumber": bill_ref,
            "InvoiceNumber": "",
            "OrgAccountBalance": "",
            "ThirdPartyTransID": "",
            "MSISDN": "2547 ***** 126",
            "FirstName": "John",
            "MiddleName": "",
            "LastName": "Doe",
        }
    ).encode()


def test_a_batch_records_what_one_by_one_would(make_bill: MakeBill) -> None:
    shop = make_bill(Decimal("1000.00"))
    stall = make_bill(Decimal("250.00"))

    answers = record_payments(
        [
            paybill("SKA0000001", shop.number, "600.00"),
            paybill("SKA0000002", shop.number.lower(), "600.00"),  # 400 to pay, 200 over
            paybill("SKA0000003", stall.number, "250.00"),
            paybill("SKA0000004", "NOSUCHBILL", "75.00"),
            paybill("SKA0000001", shop.number, "600.00"),  # Safaricom's repeat, same batch
        ]
    )

    assert [answer.created for answer in answers] == [True, True, True, True, False]
    assert answers[4].payment == answers[0].payment
    shop.refresh_from_db()
    stall.refresh_from_db()
    assert (shop.paid, shop.status) == (Decimal("1000.00"), BillStatus.PAID)
    assert (stall.paid, stall.status) == (Decimal("250.00"), BillStatus.PAID)
    assert PayerCredit.objects.get().amount == Decimal("200.00")
    assert Payment.objects.count() == 4
    assert Payment.objects.get(external_ref="SKA0000004").is_in_suspense
    # Receipts numbered in the order the payments came, without a gap.
    receipts = Receipt.objects.order_by("sequence")
    assert [r.payment.external_ref for r in receipts] == [f"SKA000000{n}" for n in (1, 2, 3, 4)]
    assert [r.sequence for r in receipts] == [1, 2, 3, 4]
    assert JournalEntry.objects.filter(source_type="payment").count() == 4
    assert get_trial_balance().is_balanced
    # The daily summary holds what went onto bills (not the credit, not suspense).
    assert DailyCollection.objects.aggregate(total=Sum("amount"))["total"] == Decimal("1250.00")
    assert AuditEvent.objects.filter(action="payments.payment_recorded").count() == 4
    assert find_first_broken_link() is None
    assert OutboxMessage.objects.filter(template="payment_received").count() == 4


def test_a_failure_anywhere_in_a_batch_records_none_of_it(
    make_bill: MakeBill, monkeypatch: pytest.MonkeyPatch
) -> None:
    bill = make_bill(Decimal("500.00"))
    entries = JournalEntry.objects.count()

    def fail(*args: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(recording, "save_collections", fail)
    with pytest.raises(RuntimeError):
        record_payments(
            [paybill("SKB0000001", bill.number, "200.00"), paybill("SKB0000002", "X", "5.00")]
        )

    assert Payment.objects.count() == 0
    assert Receipt.objects.count() == 0
    assert JournalEntry.objects.count() == entries
    bill.refresh_from_db()
    assert (bill.paid, bill.status) == (Decimal("0.00"), BillStatus.OPEN)


@pytest.fixture
def with_broker(settings: Any, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """As in production: a broker, so confirmations are recorded by a drain task. The
    task is not run here; the returned list collects the countdown of each one queued."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    queued: list[float] = []
    monkeypatch.setattr(receive, "enqueue", lambda task_name, countdown: queued.append(countdown))
    return queued


def test_with_a_broker_safaricom_is_answered_at_once_and_one_drain_records_all(
    make_bill: MakeBill, with_broker: list[float]
) -> None:
    bills = [make_bill(Decimal("300.00")) for _ in range(3)]
    client = Client()

    for position, bill in enumerate(bills):
        response = client.post(
            CONFIRMATION,
            c2b_body(bill.number, f"SKC000000{position}", "300.00"),
            "application/json",
        )
        assert response.json() == {"ResultCode": 0, "ResultDesc": "Success"}

    # Stored, answered, not yet recorded; one drain queued for the three of them.
    assert InboundCallback.objects.filter(status=CallbackStatus.RECEIVED).count() == 3
    assert Payment.objects.count() == 0
    assert with_broker == [receive.DRAIN_GATHER_SECONDS]

    assert receive.drain_c2b_confirmations() == 3

    assert Payment.objects.count() == 3
    assert all(
        bill.status == BillStatus.PAID for bill in Bill.objects.filter(pk__in=[b.pk for b in bills])
    )
    assert InboundCallback.objects.filter(status=CallbackStatus.PROCESSED).count() == 3
    # The drain is over: the next confirmation queues a new one.
    assert CallbackDrain.objects.get(name=receive.C2B_DRAIN).scheduled_at is None
    client.post(CONFIRMATION, c2b_body(bills[0].number, "SKC0000009", "10.00"), "application/json")
    assert len(with_broker) == 2


def test_a_malformed_confirmation_does_not_hold_up_the_others(make_bill: MakeBill) -> None:
    bill = make_bill(Decimal("400.00"))
    good = store_callback(
        kind="mpesa_c2b_confirmation",
        body=c2b_body(bill.number, "SKD0000001", "400.00"),
        remote_addr="196.201.214.200",
    )
    bad = store_callback(
        kind="mpesa_c2b_confirmation", body=b'{"TransID": ', remote_addr="196.201.214.200"
    )

    assert drain_c2b_confirmations() == 2

    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.status == CallbackStatus.PROCESSED
    assert bad.status == CallbackStatus.MALFORMED
    assert bad.body == '{"TransID": '  # kept as it came, for review
    assert Payment.objects.get().external_ref == "SKD0000001"


def test_one_failing_payment_is_set_aside_and_the_rest_of_its_batch_recorded(
    make_bill: MakeBill, monkeypatch: pytest.MonkeyPatch
) -> None:
    healthy, cursed = make_bill(Decimal("100.00")), make_bill(Decimal("200.00"))
    for trans_id, bill in (("SKE0000001", healthy), ("SKE0000002", cursed)):
        store_callback(
            kind="mpesa_c2b_confirmation",
            body=c2b_body(bill.number, trans_id, str(bill.total)),
            remote_addr="196.201.214.200",
        )
    lock_open_bills = recording._lock_open_bills

    def refuse_the_cursed_bill(numbers: set[str]) -> dict[str, Bill]:
        if cursed.number in numbers:
            raise RuntimeError("this bill's row is corrupt")
        return lock_open_bills(numbers)

    monkeypatch.setattr(recording, "_lock_open_bills", refuse_the_cursed_bill)

    drain_c2b_confirmations()

    assert list(Payment.objects.values_list("external_ref", flat=True)) == ["SKE0000001"]
    stuck = InboundCallback.objects.get(status=CallbackStatus.RECEIVED)
    assert (stuck.attempts, stuck.error) == (1, "RuntimeError: this bill's row is corrupt")
    # The sweep tries it again; after the last try an officer reviews it.
    for _ in range(MAX_CONFIRMATION_ATTEMPTS - 1):
        drain_c2b_confirmations(first_try=False)
    stuck.refresh_from_db()
    assert (stuck.status, stuck.attempts) == (CallbackStatus.REVIEW, MAX_CONFIRMATION_ATTEMPTS)
    assert Payment.objects.count() == 1


def test_a_bill_raised_in_bulk_is_cancelled_by_taking_back_its_own_lines(
    price_list: None,
) -> None:
    """Bulk billing (the year's land rates) books many bills' revenue in one entry; one of
    them can still be cancelled, and the books stay balanced."""
    market = RevenueStream.objects.get(code="market-fee")
    department = Department.objects.get(code="trade")
    bills = []
    for amount in (Decimal("300.00"), Decimal("700.00")):
        bill = Bill.objects.create(
            number=new_bill_number(),
            payer_name="Kamau Mwangi",
            payer_key="id:12345678",
            department=department,
            description="Bulk-raised",
            due_on=PAID_AT.date(),
            total=amount,
            source_type="test.bulk",
            source_ref=f"bulk:{amount}",
        )
        BillLine.objects.create(
            bill=bill, stream=market, description="Fee", unit_price=amount, amount=amount
        )
        bills.append(bill)
    post_entry(
        lines=[
            Line("1200", debit=Decimal("1000.00")),
            Line(market.account.code, credit=Decimal("1000.00")),
        ],
        memo="Two bills raised together",
        source_type="bulk-billing",
        source_ref="run-1",
    )

    cancellation = cancel_bill(bill=bills[0], reason="Raised twice", actor=None)

    bills[0].refresh_from_db()
    assert bills[0].status == BillStatus.CANCELLED
    assert get_account_balance(code="1200") == Decimal("700.00")
    assert get_account_balance(code=market.account.code) == Decimal("-700.00")
    assert cancellation.reversal_entry.source_ref == f"{bills[0].number}/cancelled"
    assert get_trial_balance().is_balanced


def test_a_balance_over_the_mpesa_limit_is_prompted_up_to_the_limit(
    make_bill: MakeBill, settings: Any
) -> None:
    settings.MPESA_MAX_AMOUNT = 250_000
    bill = make_bill(Decimal("400000.00"))

    prompt = request_stk_push(bill=bill, phone="0712000222", actor=None)

    assert prompt.amount == 250_000  # a part payment; the rest is prompted again later
    with pytest.raises(ValidationError, match="at most KES 250,000"):
        request_stk_push(bill=bill, phone="0712000222", actor=None, amount=Decimal("300000"))
