"""An M-Pesa prompt end to end: Kaunti's real Daraja client against the local simulator,
which calls back Kaunti's real callback endpoint on a live server.

request_stk_push -> (after commit, the eager Celery task) send_stk_push -> simulator ->
STK callback over HTTP -> payment, receipt, SMS. Transactional: the live server thread
must see what the test commits.
"""

import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings

from kaunti.conftest import read_sms
from kaunti.core.models import OutboxMessage
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
from kaunti.payments.mpesa.outbound import resolve_pending_stk_requests
from kaunti.payments.mpesa.stk import request_stk_push
from kaunti.payments.services.bills import Payer
from kaunti.simulators.daraja import (
    DarajaSimulator,
    DeliveryKind,
    DeliveryMode,
    Outcome,
    Script,
    SimulatorConfig,
)

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = "254712000222"
MakeBill = Callable[..., Bill]


@pytest.fixture
def daraja(live_server: Any, settings: Any) -> Iterator[DarajaSimulator]:
    """The simulator, Kaunti's Daraja; Kaunti's callback URLs point at the live server."""
    simulator = DarajaSimulator(
        SimulatorConfig(
            consumer_key=django_settings.MPESA_CONSUMER_KEY,
            consumer_secret=django_settings.MPESA_CONSUMER_SECRET,
            shortcode=django_settings.MPESA_SHORTCODE,
            passkey=django_settings.MPESA_PASSKEY,
            script=Script(outcome=Outcome.SUCCESS, delivery=DeliveryMode.ONCE),
            callback_timeout_seconds=10.0,
        )
    ).start()
    settings.MPESA_BASE_URL = simulator.base_url
    settings.MPESA_CALLBACK_BASE_URL = live_server.url
    yield simulator
    simulator.stop()


@pytest.fixture
def bill(make_bill: MakeBill) -> Bill:
    return make_bill(Decimal("1500.00"), payer=Payer(name="Wanjiru Njoroge", phone=PHONE))


def wait_until(condition: Callable[[], bool], *, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s")
        time.sleep(0.05)


def status_of(stk: StkRequest) -> str:
    return StkRequest.objects.values_list("status", flat=True).get(pk=stk.pk)


def test_a_paid_prompt_pays_the_bill_issues_a_receipt_and_texts_the_payer(
    daraja: DarajaSimulator, bill: Bill, sms_file: Path
) -> None:
    stk = request_stk_push(bill=bill, phone="0712 000 222", actor=None)

    [delivery] = daraja.wait_for_deliveries(1, kind=DeliveryKind.STK_CALLBACK)
    assert delivery.status == 200
    wait_until(lambda: status_of(stk) == StkStatus.PAID)
    stk.refresh_from_db()
    assert delivery.url == (
        f"{django_settings.MPESA_CALLBACK_BASE_URL}/payments/mpesa/stk/callback/"
        f"{django_settings.MPESA_CALLBACK_TOKEN}/"
    )
    push = daraja.push(stk.checkout_request_id or "")
    assert push is not None
    assert (push.amount, push.account_reference, push.msisdn) == (1500, bill.number, PHONE)
    payment = Payment.objects.get()
    assert (payment.provider, payment.amount, payment.mpesa_receipt, payment.bill_id) == (
        "mpesa-stk",
        Decimal("1500.00"),
        push.receipt_number,
        bill.pk,
    )
    bill.refresh_from_db()
    assert (bill.status, bill.paid) == (BillStatus.PAID, Decimal("1500.00"))
    receipt = Receipt.objects.get(payment=payment)
    assert (stk.result_code, stk.payment_id) == ("0", payment.pk)
    sms = OutboxMessage.objects.get(template="payment_received")
    assert sms.recipient == PHONE
    assert receipt.number in sms.body
    wait_until(lambda: len(read_sms(sms_file)) == 1)
    assert read_sms(sms_file)[0]["message"] == sms.body
    assert get_account_balance(code="1100") == Decimal("1500.00")
    assert get_trial_balance().is_balanced


@pytest.mark.parametrize(
    ("outcome", "code", "description"),
    [
        (Outcome.CANCELLED, "1032", "[STK_CB - ]Request cancelled by user"),
        (Outcome.INSUFFICIENT_FUNDS, "1", "The balance is insufficient for the transaction."),
        (Outcome.WRONG_PIN, "2001", "[MpesaCB - ]The initiator information is invalid."),
    ],
)
def test_an_unpaid_prompt_leaves_the_bill_open_and_the_request_failed(
    daraja: DarajaSimulator, bill: Bill, outcome: Outcome, code: str, description: str
) -> None:
    daraja.set_outcome(outcome, phone_number=PHONE)

    stk = request_stk_push(bill=bill, phone=PHONE, actor=None)

    # Kaunti has answered the callback (so its transaction is over) once the simulator
    # records the delivery; on SQLite the live server shares the test's connection, so
    # the request's new status can be seen before the whole transaction has run.
    [delivery] = daraja.wait_for_deliveries(1, kind=DeliveryKind.STK_CALLBACK)
    assert delivery.status == 200
    wait_until(lambda: status_of(stk) == StkStatus.FAILED)
    stk.refresh_from_db()
    assert (stk.result_code, stk.result_desc, stk.payment) == (code, description, None)
    bill.refresh_from_db()
    assert (bill.status, bill.paid) == (BillStatus.OPEN, Decimal("0.00"))
    assert Payment.objects.count() == 0
    assert Receipt.objects.count() == 0
    assert InboundCallback.objects.get().status == CallbackStatus.PROCESSED


def test_a_callback_never_delivered_is_resolved_by_the_stk_query(
    daraja: DarajaSimulator, bill: Bill
) -> None:
    daraja.set_outcome(Outcome.SUCCESS, phone_number=PHONE, delivery=DeliveryMode.NEVER)
    stk = request_stk_push(bill=bill, phone=PHONE, actor=None)
    stk.refresh_from_db()
    assert stk.status == StkStatus.PENDING
    wait_until(lambda: not daraja.push(stk.checkout_request_id or "").is_pending)  # type: ignore[union-attr]

    resolved = resolve_pending_stk_requests(older_than_seconds=0)

    assert resolved == 1
    stk.refresh_from_db()
    assert (stk.status, stk.result_code, stk.query_attempts) == (StkStatus.PAID, "0", 1)
    bill.refresh_from_db()
    assert bill.status == BillStatus.PAID
    assert Payment.objects.get().amount == Decimal("1500.00")
    assert daraja.deliveries() == []
    assert InboundCallback.objects.count() == 0
    assert resolve_pending_stk_requests(older_than_seconds=0) == 0


def test_a_callback_delivered_twice_records_one_payment(
    daraja: DarajaSimulator, bill: Bill
) -> None:
    daraja.set_outcome(Outcome.SUCCESS, phone_number=PHONE, delivery=DeliveryMode.TWICE)

    stk = request_stk_push(bill=bill, phone=PHONE, actor=None)

    deliveries = daraja.wait_for_deliveries(2, kind=DeliveryKind.STK_CALLBACK, timeout=10)
    assert [d.status for d in deliveries] == [200, 200]
    assert deliveries[0].body == deliveries[1].body
    wait_until(lambda: status_of(stk) == StkStatus.PAID)
    assert Payment.objects.count() == 1
    assert Receipt.objects.count() == 1
    assert sorted(InboundCallback.objects.values_list("status", flat=True)) == [
        CallbackStatus.DUPLICATE,
        CallbackStatus.PROCESSED,
    ]
    bill.refresh_from_db()
    assert bill.paid == Decimal("1500.00")
