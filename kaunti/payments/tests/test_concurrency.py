"""The money path under real concurrency: threads, each with its own database connection.

PostgreSQL only (CI runs it): SQLite has one writer at a time, so it cannot show a race.
"""

import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from kaunti.accounts.models import User
from kaunti.core.models import AuditEvent, OutboxMessage
from kaunti.ledger.models import JournalEntry
from kaunti.ledger.selectors import get_account_balance, get_trial_balance
from kaunti.payments.models import (
    Allocation,
    Bill,
    BillStatus,
    CallbackStatus,
    Channel,
    DailyCollection,
    InboundCallback,
    PayerCredit,
    Payment,
    Receipt,
    ReceiptSequence,
    StkRequest,
)
from kaunti.payments.services import recording
from kaunti.payments.services.bills import (
    Payer,
    apply_payer_credit,
    apply_payer_credits,
    credit_balance,
)
from kaunti.payments.tasks import retry_c2b_confirmations
from kaunti.simulators.daraja import (
    DarajaSimulator,
    DeliveryMode,
    Outcome,
    Script,
    SimulatorConfig,
)

pytestmark = [
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="needs PostgreSQL's concurrent writers",
    ),
    pytest.mark.django_db(transaction=True),
]

CONFIRMATION = f"/payments/mpesa/c2b/confirmation/{settings.MPESA_CALLBACK_TOKEN}/"
MakeBill = Callable[..., Bill]


def confirmation(bill_number: str, trans_id: str, amount: str = "500.00") -> str:
    return json.dumps(
        {
            "TransactionType": "Pay Bill",
            "TransID": trans_id,
            "TransTime": "20261122063845",
            "TransAmount": amount,
            "BusinessShortCode": "600638",
            "BillRefNumber": bill_number,
            "InvoiceNumber": "",
            "OrgAccountBalance": "",
            "ThirdPartyTransID": "",
            "MSISDN": "254712000222",
            "FirstName": "Wanjiru",
            "MiddleName": "",
            "LastName": "Njoroge",
        }
    )


def run_together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls on as many threads, released at once; each closes its own connection.

    An exception in a thread is raised here, by `Future.result`.
    """
    barrier = threading.Barrier(len(calls))

    def work(call: Callable[[], Any]) -> Any:
        try:
            barrier.wait(timeout=30)
            return call()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(work, call) for call in calls]
        return [future.result(timeout=120) for future in futures]


def post_confirmation(body: str) -> Callable[[], tuple[int, Any]]:
    def call() -> tuple[int, Any]:
        response = Client().post(CONFIRMATION, body, content_type="application/json")
        return response.status_code, response.json()

    return call


def test_eight_deliveries_of_one_confirmation_record_one_payment(make_bill: MakeBill) -> None:
    bill = make_bill(Decimal("1500.00"))
    body = confirmation(bill.number, "TKQ8RZ3M1P", amount="1500.00")

    answers = run_together([post_confirmation(body) for _ in range(8)])

    assert answers == [(200, {"ResultCode": 0, "ResultDesc": "Success"})] * 8
    payment = Payment.objects.get()
    assert (payment.external_ref, payment.amount) == ("TKQ8RZ3M1P", Decimal("1500.00"))
    assert Receipt.objects.get().payment == payment
    assert JournalEntry.objects.filter(source_type="payment").count() == 1
    assert Allocation.objects.get().amount == Decimal("1500.00")
    statuses = sorted(InboundCallback.objects.values_list("status", flat=True))
    assert statuses == [CallbackStatus.DUPLICATE] * 7 + [CallbackStatus.PROCESSED]
    bill.refresh_from_db()
    assert (bill.paid, bill.status) == (Decimal("1500.00"), BillStatus.PAID)
    assert get_trial_balance().is_balanced


def test_twenty_concurrent_payments_take_receipt_numbers_one_to_twenty(
    make_bill: MakeBill,
) -> None:
    bills = [make_bill(Decimal("500.00")) for _ in range(20)]

    answers = run_together(
        [
            post_confirmation(confirmation(bill.number, f"TKC{position:07d}"))
            for position, bill in enumerate(bills)
        ]
    )

    assert {status for status, _body in answers} == {200}
    receipts = list(Receipt.objects.order_by("sequence"))
    assert [receipt.sequence for receipt in receipts] == list(range(1, 21))
    assert len({receipt.number for receipt in receipts}) == 20
    assert receipts[-1].number.endswith("-000020")
    assert ReceiptSequence.objects.get().last_number == 20
    assert Bill.objects.filter(status=BillStatus.PAID).count() == 20
    collected = DailyCollection.objects.get()
    assert (collected.amount, collected.count) == (Decimal("10000.00"), 20)
    assert get_trial_balance().is_balanced


def test_a_failure_after_the_ledger_posting_leaves_nothing_and_no_gap(
    make_bill: MakeBill, monkeypatch: pytest.MonkeyPatch
) -> None:
    bill = make_bill(Decimal("1500.00"))
    entries, events = JournalEntry.objects.count(), AuditEvent.objects.count()
    issue_receipts = recording.issue_receipts

    def issue_then_fail(*args: Any) -> list[Receipt]:
        issue_receipts(*args)  # the number is taken and the ledger already posted...
        raise RuntimeError("the receipt printer caught fire")  # ...then this

    monkeypatch.setattr(recording, "issue_receipts", issue_then_fail)

    response = Client(raise_request_exception=False).post(
        CONFIRMATION,
        confirmation(bill.number, "TKF4ILUR3X", "1500.00"),
        content_type="application/json",
    )

    # Safaricom is answered (the payload is safe with us), and nothing was half recorded.
    assert response.status_code == 200
    assert response.json()["ResultCode"] == 0
    assert Payment.objects.count() == 0
    assert Receipt.objects.count() == 0
    assert Allocation.objects.count() == 0
    assert JournalEntry.objects.count() == entries
    assert AuditEvent.objects.count() == events
    assert not ReceiptSequence.objects.filter(last_number__gt=0).exists()
    assert not DailyCollection.objects.exists()
    assert not OutboxMessage.objects.exists()
    bill.refresh_from_db()
    assert (bill.paid, bill.status) == (Decimal("0.00"), BillStatus.OPEN)
    # The payload itself was kept, committed before the work, so it can be applied again.
    callback = InboundCallback.objects.get()
    assert callback.status == CallbackStatus.RECEIVED
    assert (callback.attempts, callback.error) == (
        1,
        "RuntimeError: the receipt printer caught fire",
    )

    # The retry sweep records it once the fault is gone.
    monkeypatch.undo()
    assert retry_c2b_confirmations() == 1
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.PROCESSED

    assert Receipt.objects.get().sequence == 1
    bill.refresh_from_db()
    assert bill.status == BillStatus.PAID
    assert get_trial_balance().is_balanced


# --- Idempotency keys under a race ------------------------------------------------------------


@pytest.fixture
def daraja(settings: Any) -> Iterator[DarajaSimulator]:
    """Somewhere for the prompts to go after commit; it never calls back."""
    simulator = DarajaSimulator(
        SimulatorConfig(
            consumer_key=settings.MPESA_CONSUMER_KEY,
            consumer_secret=settings.MPESA_CONSUMER_SECRET,
            shortcode=settings.MPESA_SHORTCODE,
            passkey=settings.MPESA_PASSKEY,
            script=Script(outcome=Outcome.SUCCESS, delivery=DeliveryMode.NEVER),
            lock_subscriber_while_prompted=False,
        )
    ).start()
    settings.MPESA_BASE_URL = simulator.base_url
    settings.MPESA_CALLBACK_BASE_URL = "https://kaunti.example"
    yield simulator
    simulator.stop()


def prompt(user: User, bill: Bill, key: str) -> Callable[[], tuple[int, Any]]:
    client = Client()
    client.force_login(user)

    def call() -> tuple[int, Any]:
        response = client.post(
            "/api/v1/payments/stk/",
            {"bill_number": bill.number, "phone": "0712000111"},
            content_type="application/json",
            headers={"Idempotency-Key": key},
        )
        return response.status_code, response.json()

    return call


def test_racing_calls_with_one_key_make_one_prompt(
    make_bill: MakeBill, citizen: User, daraja: DarajaSimulator
) -> None:
    bill = make_bill(Decimal("800.00"), payer=Payer(name="Wanjiku Kamau", user=citizen))

    answers = run_together([prompt(citizen, bill, "race-key") for _ in range(6)])

    stk = StkRequest.objects.get()
    assert {status for status, _body in answers} <= {200, 202}
    assert {body["id"] for _status, body in answers} == {str(stk.public_id)}


def test_racing_calls_with_one_key_for_two_bills_give_one_prompt_and_a_conflict(
    make_bill: MakeBill, citizen: User, daraja: DarajaSimulator
) -> None:
    first = make_bill(Decimal("800.00"), payer=Payer(name="Wanjiku Kamau", user=citizen))
    second = make_bill(Decimal("300.00"), payer=Payer(name="Wanjiku Kamau", user=citizen))

    answers = run_together([prompt(citizen, first, "shared"), prompt(citizen, second, "shared")])

    assert sorted(status for status, _body in answers) == [202, 409]
    assert StkRequest.objects.count() == 1


def test_credit_used_on_a_payers_bills_at_once_is_spent_once(make_bill: MakeBill) -> None:
    """As the rates run does for the bills it raised in bulk (`apply_payer_credit`), on
    several bills of one payer at the same moment."""
    payer = Payer(name="Kamau Mwangi", phone="0722000333", id_number="11223344")
    bills = [make_bill(Decimal("250.00"), payer=payer) for _ in range(6)]
    overpaid = make_bill(Decimal("1000.00"), payer=payer)
    recording.record_payment(
        provider="mpesa-c2b",
        external_ref="RKTQDM7W6S",
        channel=Channel.MPESA_PAYBILL,
        amount=Decimal("1600.00"),
        paid_at=timezone.now(),
        bill_number=overpaid.number,
        payer_phone="254722000333",
        mpesa_receipt="RKTQDM7W6S",
    )
    assert credit_balance(payer_key="id:11223344") == Decimal("600.00")

    used = run_together([partial(apply_payer_credit, bill=bill, actor=None) for bill in bills])

    # The 600 pays two bills in full and 100 of a third, whatever the order.
    assert sorted(used) == [Decimal("0.00")] * 3 + [Decimal("100.00"), *[Decimal("250.00")] * 2]
    assert sorted(Bill.objects.get(pk=bill.pk).paid for bill in bills) == sorted(used)
    assert sum(
        allocation.amount
        for allocation in Allocation.objects.filter(bill__in=bills, from_credit=True)
    ) == Decimal("600.00")
    assert credit_balance(payer_key="id:11223344") == Decimal("0.00")
    assert PayerCredit.objects.filter(amount__lt=0).count() == 3
    assert get_account_balance(code="2200") == Decimal("0.00")  # payer credits
    assert get_trial_balance().is_balanced


def test_a_bill_raised_while_credit_is_used_in_bulk_waits_instead_of_deadlocking(
    make_bill: MakeBill,
) -> None:
    """`create_bill` and `apply_payer_credits` both hold the payer's credit before the
    bills' other locks (ADR 16); taken the other way round by one of them, the two could
    deadlock (it was with the audit chain's lock, before ADR 19)."""
    payer = Payer(name="Kamau Mwangi", phone="0722000333", id_number="11223344")
    for round_number in range(5):
        waiting = [make_bill(Decimal("250.00"), payer=payer) for _ in range(4)]
        overpaid = make_bill(Decimal("100.00"), payer=payer)
        recording.record_payment(
            provider="mpesa-c2b",
            external_ref=f"RKTQDM7W{round_number}X",
            channel=Channel.MPESA_PAYBILL,
            amount=Decimal("700.00"),
            paid_at=timezone.now(),
            bill_number=overpaid.number,
            payer_phone="254722000333",
            mpesa_receipt=f"RKTQDM7W{round_number}X",
        )

        run_together(
            [
                partial(apply_payer_credits, bill_ids=[bill.pk for bill in waiting], actor=None),
                partial(make_bill, Decimal("250.00"), payer=payer),
            ]
        )

        assert credit_balance(payer_key="id:11223344") == Decimal("0.00")
    assert get_account_balance(code="2200") == Decimal("0.00")
    assert get_trial_balance().is_balanced
