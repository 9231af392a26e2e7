"""The counter's services: tills (float, takings, count and variance), cash, bank-slip and
cheque receipts taken once, and the supervisor's cancellation of a receipt by reversal."""

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from kaunti.accounts.models import User
from kaunti.core.models import AuditEvent, Department, IssuedDocument
from kaunti.ledger.models import JournalEntry
from kaunti.ledger.selectors import get_account_balance, get_trial_balance
from kaunti.payments.models import (
    Allocation,
    Bill,
    BillStatus,
    Channel,
    DailyCollection,
    PayerCredit,
    Payment,
    Receipt,
    ReceiptCancellation,
    TillSession,
    TillStatus,
)
from kaunti.payments.services.bills import LineInput, Payer
from kaunti.payments.services.counter import (
    close_till,
    new_form_token,
    open_till,
    receive_counter_payment,
)
from kaunti.payments.services.receipt_cancellation import cancel_receipt
from kaunti.payments.services.suspense import assign_suspense_payment
from kaunti.payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db

ZERO = Decimal("0.00")


@pytest.fixture
def cashier(make_staff: Callable[..., User]) -> User:
    return make_staff(["cashier"], department="revenue")


@pytest.fixture
def supervisor(make_staff: Callable[..., User]) -> User:
    """A supervisor of trade, the department the test bills belong to."""
    return make_staff(["supervisor"], department="trade")


@pytest.fixture
def till(cashier: User, price_list: None) -> TillSession:
    return open_till(
        cashier=cashier,
        department=Department.objects.get(code="revenue"),
        opening_float=Decimal("1000.00"),
    )


def take(
    till: TillSession,
    bill: Bill,
    amount: str,
    *,
    method: str = "cash",
    token: str | None = None,
    bank: str = "",
    reference: str = "",
    actor: User | None = None,
) -> Payment:
    return receive_counter_payment(
        till=till,
        bill_number=bill.number,
        amount=Decimal(amount),
        method=method,
        bank=bank,
        reference=reference,
        idempotency_token=new_form_token() if token is None else token,
        actor=actor or till.cashier,
    )


def state() -> dict[str, Any]:
    """Everything a refused action must leave as it was."""
    return {
        "payments": Payment.objects.count(),
        "receipts": Receipt.objects.count(),
        "entries": JournalEntry.objects.count(),
        "allocations": list(Allocation.objects.values_list("bill_id", "amount")),
        "credits": list(PayerCredit.objects.values_list("payer_key", "amount")),
        "collections": list(
            DailyCollection.objects.order_by("pk").values_list("channel", "amount", "count")
        ),
        "bills": list(Bill.objects.order_by("pk").values_list("number", "paid", "status")),
        "tills": list(
            TillSession.objects.order_by("pk").values_list(
                "status", "counted_cash", "expected_cash", "variance"
            )
        ),
        "cancellations": ReceiptCancellation.objects.count(),
        "revoked": IssuedDocument.objects.filter(revoked_at__isnull=False).count(),
        "audit": AuditEvent.objects.count(),
    }


# --- Tills ------------------------------------------------------------------------------


def test_opening_a_till_records_the_float_and_an_audit_event(till: TillSession) -> None:
    assert till.status == TillStatus.OPEN
    assert till.opening_float == Decimal("1000.00")
    assert till.department.code == "revenue"
    event = AuditEvent.objects.get(action="payments.till_opened")
    assert event.target_id == str(till.pk)
    assert event.data == {"department": "revenue", "opening_float": "1000.00"}


def test_a_cashier_cannot_open_a_second_till(till: TillSession, cashier: User) -> None:
    before = state()
    with pytest.raises(ValidationError, match="already have an open till"):
        open_till(
            cashier=cashier,
            department=Department.objects.get(code="revenue"),
            opening_float=Decimal("500"),
        )
    assert state() == before


def test_a_till_can_be_opened_only_where_the_cashier_holds_the_role(
    cashier: User, price_list: None
) -> None:
    before = state()
    with pytest.raises(PermissionDenied):
        open_till(
            cashier=cashier,
            department=Department.objects.get(code="health"),
            opening_float=Decimal("500"),
        )
    assert state() == before


# --- Taking payments --------------------------------------------------------------------


def test_cash_at_the_counter_is_receipted_and_posted_to_cash_on_hand(
    till: TillSession, make_bill: Callable[..., Bill]
) -> None:
    bill = make_bill(Decimal("500.00"))
    payment = take(till, bill, "500")
    bill.refresh_from_db()
    assert payment.channel == Channel.CASH
    assert payment.provider == "counter"
    assert payment.till_session == till
    assert payment.received_by == till.cashier
    assert payment.receipt.number.endswith("-000001")
    assert bill.status == BillStatus.PAID
    assert bill.paid == Decimal("500.00")
    assert get_account_balance(code="1120") == Decimal("500.00")
    assert get_account_balance(code="1200") == ZERO
    assert get_trial_balance().is_balanced


def test_a_double_submitted_cash_form_records_one_payment(
    till: TillSession, make_bill: Callable[..., Bill]
) -> None:
    bill = make_bill(Decimal("800.00"))
    token = new_form_token()
    first = take(till, bill, "300", token=token)
    second = take(till, bill, "300", token=token)
    bill.refresh_from_db()
    assert second.pk == first.pk
    assert Payment.objects.count() == 1
    assert Receipt.objects.count() == 1
    assert bill.paid == Decimal("300.00")
    assert bill.status == BillStatus.PARTLY_PAID
    assert get_account_balance(code="1120") == Decimal("300.00")


def test_two_cash_forms_are_two_payments(till: TillSession, make_bill: Callable[..., Bill]) -> None:
    bill = make_bill(Decimal("800.00"))
    take(till, bill, "300")
    take(till, bill, "200")
    bill.refresh_from_db()
    assert Payment.objects.count() == 2
    assert bill.paid == Decimal("500.00")


def test_a_bank_slip_posts_to_the_bank_and_a_cheque_to_cheques_in_hand(
    till: TillSession, make_bill: Callable[..., Bill]
) -> None:
    bill = make_bill(Decimal("900.00"))
    slip = take(till, bill, "400", method="bank", bank="kcb", reference="ol-123 456")
    cheque = take(till, bill, "500", method="cheque", bank="equity", reference="000871")
    assert slip.channel == Channel.BANK
    assert slip.external_ref == "bank:kcb:OL123456"
    assert slip.raw["reference"] == "KCB OL123456"
    assert cheque.channel == Channel.CHEQUE
    assert cheque.external_ref == "cheque:equity:000871"
    assert get_account_balance(code="1110") == Decimal("400.00")
    assert get_account_balance(code="1130") == Decimal("500.00")
    assert get_trial_balance().is_balanced


def test_the_same_bank_slip_from_one_form_submitted_twice_is_one_payment(
    till: TillSession, make_bill: Callable[..., Bill]
) -> None:
    bill = make_bill(Decimal("900.00"))
    token = new_form_token()
    first = take(till, bill, "400", method="bank", bank="kcb", reference="778899", token=token)
    second = take(till, bill, "400", method="bank", bank="kcb", reference="778899", token=token)
    assert second.pk == first.pk
    assert Payment.objects.count() == 1


def test_a_bank_slip_already_receipted_is_refused(
    till: TillSession, make_bill: Callable[..., Bill]
) -> None:
    bill = make_bill(Decimal("900.00"))
    other = make_bill(Decimal("400.00"))
    first = take(till, bill, "400", method="bank", bank="kcb", reference="778899")
    before = state()
    with pytest.raises(ValidationError) as refused:
        take(till, other, "400", method="bank", bank="kcb", reference="77-88-99")
    assert refused.value.message_dict["reference"] == [
        f"This slip or cheque was already receipted: receipt {first.receipt.number}, "
        f"bill {bill.number}."
    ]
    assert state() == before


def test_the_same_slip_number_at_another_bank_is_another_payment(
    till: TillSession, make_bill: Callable[..., Bill]
) -> None:
    bill = make_bill(Decimal("900.00"))
    take(till, bill, "400", method="bank", bank="kcb", reference="778899")
    take(till, bill, "400", method="bank", bank="equity", reference="778899")
    assert Payment.objects.count() == 2


def test_a_slip_needs_its_bank_and_number(
    till: TillSession, make_bill: Callable[..., Bill]
) -> None:
    bill = make_bill(Decimal("900.00"))
    before = state()
    with pytest.raises(ValidationError) as refused:
        take(till, bill, "400", method="cheque", bank="", reference="#")
    assert set(refused.value.message_dict) == {"bank", "reference"}
    assert state() == before


def test_a_malformed_form_token_is_refused(
    till: TillSession, make_bill: Callable[..., Bill]
) -> None:
    bill = make_bill(Decimal("500.00"))
    before = state()
    for token in ("", "short", "x" * 41, "not a token at all!!"):
        with pytest.raises(ValidationError, match="This form has expired"):
            take(till, bill, "500", token=token)
    assert state() == before


def test_a_closed_till_takes_no_payments(till: TillSession, make_bill: Callable[..., Bill]) -> None:
    bill = make_bill(Decimal("500.00"))
    close_till(till=till, counted_cash=Decimal("1000"), actor=till.cashier)
    before = state()
    with pytest.raises(ValidationError, match="This till is closed"):
        take(till, bill, "500")
    assert state() == before


def test_another_cashiers_till_takes_no_payments(
    till: TillSession, make_bill: Callable[..., Bill], make_staff: Callable[..., User]
) -> None:
    bill = make_bill(Decimal("500.00"))
    other_cashier = make_staff(["cashier"], department="revenue")
    before = state()
    with pytest.raises(PermissionDenied):
        take(till, bill, "500", actor=other_cashier)
    assert state() == before


def test_an_unknown_bill_is_refused_at_the_counter_not_sent_to_suspense(
    till: TillSession, price_list: None
) -> None:
    before = state()
    with pytest.raises(ValidationError) as refused:
        receive_counter_payment(
            till=till,
            bill_number="NOSUCHBIL",
            amount=Decimal("100"),
            method="cash",
            reference="",
            idempotency_token=new_form_token(),
            actor=till.cashier,
        )
    assert "bill_number" in refused.value.message_dict
    assert state() == before


def test_a_paid_bill_takes_no_more_at_the_counter(
    till: TillSession, make_bill: Callable[..., Bill]
) -> None:
    bill = make_bill(Decimal("500.00"))
    take(till, bill, "500")
    before = state()
    with pytest.raises(ValidationError, match="already paid in full"):
        take(till, bill, "100")
    assert state() == before


# --- Closing a till ---------------------------------------------------------------------


def test_closing_a_till_with_a_shortage_posts_it_to_cash_variances(
    till: TillSession, make_bill: Callable[..., Bill]
) -> None:
    take(till, make_bill(Decimal("500.00")), "500")
    take(till, make_bill(Decimal("300.00")), "300")
    closed = close_till(till=till, counted_cash=Decimal("1750.00"), actor=till.cashier)
    assert closed.status == TillStatus.CLOSED
    assert closed.expected_cash == Decimal("1800.00")
    assert closed.counted_cash == Decimal("1750.00")
    assert closed.variance == Decimal("-50.00")
    assert get_account_balance(code="5100") == Decimal("50.00")
    assert get_account_balance(code="1120") == Decimal("750.00")
    entry = JournalEntry.objects.get(source_type="till")
    assert entry.source_ref == f"{till.public_id}/variance"
    assert [(line.account.code, line.debit, line.credit) for line in entry.lines.all()] == [
        ("5100", Decimal("50.00"), ZERO),
        ("1120", ZERO, Decimal("50.00")),
    ]
    assert get_trial_balance().is_balanced
    event = AuditEvent.objects.get(action="payments.till_closed")
    assert event.data == {
        "expected_cash": "1800.00",
        "counted_cash": "1750.00",
        "variance": "-50.00",
    }


def test_closing_a_till_with_an_overage_posts_it_the_other_way(
    till: TillSession, make_bill: Callable[..., Bill]
) -> None:
    take(till, make_bill(Decimal("500.00")), "500")
    take(till, make_bill(Decimal("900.00")), "400", method="bank", bank="kcb", reference="55501")
    closed = close_till(till=till, counted_cash=Decimal("1520.00"), actor=till.cashier)
    assert closed.expected_cash == Decimal("1500.00")  # the slip is not cash in the drawer
    assert closed.variance == Decimal("20.00")
    assert get_account_balance(code="5100") == Decimal("-20.00")
    assert get_account_balance(code="1120") == Decimal("520.00")
    assert get_account_balance(code="1110") == Decimal("400.00")
    assert get_trial_balance().is_balanced


def test_closing_a_till_whose_count_matches_posts_nothing(
    till: TillSession, make_bill: Callable[..., Bill]
) -> None:
    take(till, make_bill(Decimal("500.00")), "500")
    closed = close_till(till=till, counted_cash=Decimal("1500"), actor=till.cashier)
    assert closed.variance == ZERO
    assert not JournalEntry.objects.filter(source_type="till").exists()


def test_a_till_closes_once(till: TillSession) -> None:
    close_till(till=till, counted_cash=Decimal("1000"), actor=till.cashier)
    before = state()
    with pytest.raises(ValidationError, match="already closed"):
        close_till(till=till, counted_cash=Decimal("900"), actor=till.cashier)
    assert state() == before


def test_another_cashier_cannot_close_a_till(
    till: TillSession, make_staff: Callable[..., User]
) -> None:
    other_cashier = make_staff(["cashier"], department="revenue")
    before = state()
    with pytest.raises(PermissionDenied):
        close_till(till=till, counted_cash=Decimal("1000"), actor=other_cashier)
    assert state() == before


def test_expected_cash_leaves_out_cash_handed_back_for_a_cancelled_receipt(
    till: TillSession, make_bill: Callable[..., Bill], supervisor: User
) -> None:
    payment = take(till, make_bill(Decimal("500.00")), "500")
    take(till, make_bill(Decimal("200.00")), "200")
    cancel_receipt(
        receipt=payment.receipt,
        reason="Wrong bill",
        requested_by=till.cashier,
        approved_by=supervisor,
    )
    closed = close_till(till=till, counted_cash=Decimal("1200"), actor=till.cashier)
    assert closed.expected_cash == Decimal("1200.00")
    assert closed.variance == ZERO
    assert get_account_balance(code="1120") == Decimal("200.00")


# --- Cancelling a receipt ---------------------------------------------------------------


def test_cancelling_a_receipt_reverses_everything(
    till: TillSession, make_bill: Callable[..., Bill], supervisor: User, client: Client
) -> None:
    bill = make_bill(Decimal("500.00"))
    payment = take(till, bill, "500")
    receipt = payment.receipt
    today = timezone.localdate()
    cancellation = cancel_receipt(
        receipt=receipt,
        reason="  Cashier keyed the wrong bill  ",
        requested_by=till.cashier,
        approved_by=supervisor,
    )
    bill.refresh_from_db()
    assert bill.status == BillStatus.OPEN
    assert bill.paid == ZERO
    assert list(Allocation.objects.filter(payment=payment).values_list("amount", flat=True)) == [
        Decimal("500.00"),
        Decimal("-500.00"),
    ]
    assert cancellation.reason == "Cashier keyed the wrong bill"
    assert cancellation.requested_by == till.cashier
    assert cancellation.approved_by == supervisor
    assert cancellation.reversal_entry.reverses == payment.journal_entry
    assert get_account_balance(code="1120") == ZERO
    assert get_account_balance(code="1200") == Decimal("500.00")
    trial = get_trial_balance()
    assert trial.is_balanced
    assert trial.total_debit - trial.total_credit == ZERO
    collections = DailyCollection.objects.filter(day=today, channel=Channel.CASH)
    assert collections.aggregate(amount=Sum("amount"), count=Sum("count")) == {
        "amount": ZERO,
        "count": 0,
    }
    # Nothing was deleted: the payment, its receipt and its entry are still there.
    assert Payment.objects.filter(pk=payment.pk).exists()
    assert Receipt.objects.filter(pk=receipt.pk).exists()
    verify = client.get(f"/verify/{receipt.verification_code}")
    assert verify.status_code == 200
    assert "Revoked" in verify.content.decode()
    event = AuditEvent.objects.get(action="payments.receipt_cancelled")
    assert event.actor == supervisor
    assert event.data["reason"] == "Cashier keyed the wrong bill"
    assert event.data["requested_by"] == till.cashier.username


def test_cancelling_an_overpaid_receipt_takes_back_the_payers_credit(
    till: TillSession, make_bill: Callable[..., Bill], supervisor: User
) -> None:
    bill = make_bill(Decimal("500.00"))
    payment = take(till, bill, "700")
    assert get_account_balance(code="2200") == Decimal("-200.00")
    cancel_receipt(
        receipt=payment.receipt, reason="Typo", requested_by=till.cashier, approved_by=supervisor
    )
    assert list(PayerCredit.objects.values_list("amount", flat=True)) == [
        Decimal("200.00"),
        Decimal("-200.00"),
    ]
    assert get_account_balance(code="2200") == ZERO
    assert get_account_balance(code="1120") == ZERO
    assert get_trial_balance().is_balanced


def test_a_credit_already_used_on_another_bill_cannot_be_taken_back(
    till: TillSession, make_bill: Callable[..., Bill], supervisor: User
) -> None:
    payer = Payer(name="Kamau Mwangi", phone="0722000333", id_number="11223344")
    payment = take(till, make_bill(Decimal("500.00"), payer=payer), "700")
    make_bill(Decimal("100.00"), payer=payer)  # uses KES 100 of the KES 200 credit
    before = state()
    with pytest.raises(ValidationError, match="already been used on another bill"):
        cancel_receipt(
            receipt=payment.receipt,
            reason="Typo",
            requested_by=till.cashier,
            approved_by=supervisor,
        )
    assert state() == before


def test_cancelling_a_receipt_needs_a_supervisor_of_the_bills_department(
    till: TillSession,
    make_bill: Callable[..., Bill],
    make_staff: Callable[..., User],
) -> None:
    payment = take(till, make_bill(Decimal("500.00")), "500")
    another_cashier = make_staff(["cashier"], department="trade")
    health_supervisor = make_staff(["supervisor"], department="health")
    before = state()
    for approver in (another_cashier, health_supervisor):
        with pytest.raises(PermissionDenied):
            cancel_receipt(
                receipt=payment.receipt,
                reason="Wrong bill",
                requested_by=till.cashier,
                approved_by=approver,
            )
    assert state() == before


def test_a_supervisor_cannot_approve_their_own_request(
    till: TillSession, make_bill: Callable[..., Bill], supervisor: User
) -> None:
    payment = take(till, make_bill(Decimal("500.00")), "500")
    before = state()
    with pytest.raises(ValidationError) as refused:
        cancel_receipt(
            receipt=payment.receipt,
            reason="Wrong bill",
            requested_by=supervisor,
            approved_by=supervisor,
        )
    assert refused.value.message_dict["requested_by"] == [
        "You cannot approve your own request: another supervisor must."
    ]
    assert state() == before


def test_a_receipt_is_cancelled_once(
    till: TillSession, make_bill: Callable[..., Bill], supervisor: User
) -> None:
    payment = take(till, make_bill(Decimal("500.00")), "500")
    cancel_receipt(
        receipt=payment.receipt,
        reason="Wrong bill",
        requested_by=till.cashier,
        approved_by=supervisor,
    )
    before = state()
    with pytest.raises(ValidationError, match="was already cancelled on"):
        cancel_receipt(
            receipt=payment.receipt,
            reason="Again",
            requested_by=till.cashier,
            approved_by=supervisor,
        )
    assert state() == before


def test_a_cancellation_needs_a_reason(
    till: TillSession, make_bill: Callable[..., Bill], supervisor: User
) -> None:
    payment = take(till, make_bill(Decimal("500.00")), "500")
    before = state()
    with pytest.raises(ValidationError) as refused:
        cancel_receipt(
            receipt=payment.receipt, reason="   ", requested_by=till.cashier, approved_by=supervisor
        )
    assert "reason" in refused.value.message_dict
    assert state() == before


def test_a_payment_still_in_suspense_cannot_be_cancelled(
    price_list: None, supervisor: User, cashier: User
) -> None:
    suspense = PaymentFactory.create(
        bill_number="NOSUCHBIL",
        amount=Decimal("800"),
        external_ref="RKTQDM7W6S",
        payer_phone="",
        mpesa_receipt="",
    )
    before = state()
    with pytest.raises(ValidationError, match="Assign it to the right bill"):
        cancel_receipt(
            receipt=suspense.receipt,
            reason="Unknown payer",
            requested_by=cashier,
            approved_by=supervisor,
        )
    assert state() == before


def test_cancelling_a_payment_assigned_from_suspense_reverses_its_assignment_too(
    make_bill: Callable[..., Bill], supervisor: User, cashier: User
) -> None:
    bill = make_bill(Decimal("800.00"))
    suspense = PaymentFactory.create(
        bill_number="NOSUCHBIL",
        amount=Decimal("800"),
        external_ref="RKTQDM7W6S",
        payer_phone="",
        mpesa_receipt="",
    )
    assign_suspense_payment(payment=suspense, bill_number=bill.number, actor=None)
    cancel_receipt(
        receipt=suspense.receipt,
        reason="Assigned to the wrong bill",
        requested_by=cashier,
        approved_by=supervisor,
    )
    bill.refresh_from_db()
    assert bill.status == BillStatus.OPEN
    assert get_account_balance(code="2100") == ZERO
    assert get_account_balance(code="1100") == ZERO
    assert get_account_balance(code="1200") == Decimal("800.00")
    assert get_trial_balance().is_balanced


def test_a_receipt_that_settled_a_service_bill_cannot_be_cancelled(
    till: TillSession, make_bill: Callable[..., Bill], supervisor: User
) -> None:
    bill = make_bill(
        None,
        lines=[LineInput("food-handler")],
        source_type="tests.service",  # no settlement handler registered
        source_ref="APP-1",
    )
    payment = take(till, bill, "500")
    before = state()
    with pytest.raises(ValidationError, match="service it paid for has been delivered"):
        cancel_receipt(
            receipt=payment.receipt,
            reason="Typo",
            requested_by=till.cashier,
            approved_by=supervisor,
        )
    assert state() == before


# --- Concurrency (PostgreSQL: SQLite serialises every writer anyway) ---------------------


@pytest.mark.django_db(transaction=True)
def test_the_same_slip_submitted_at_once_from_two_forms_is_receipted_once(
    make_bill: Callable[..., Bill], make_staff: Callable[..., User]
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent writers (PostgreSQL)")
    bill = make_bill(Decimal("900.00"))
    cashier = make_staff(["cashier"], department="revenue")
    till = open_till(
        cashier=cashier, department=Department.objects.get(code="revenue"), opening_float=ZERO
    )
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def submit() -> None:
        try:
            barrier.wait(timeout=5)
            take(till, bill, "400", method="bank", bank="kcb", reference="778899")
            outcomes.append("receipted")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    bill.refresh_from_db()
    assert sorted(outcomes) == ["receipted", "refused"]
    assert Payment.objects.count() == 1
    assert bill.paid == Decimal("400.00")
    assert get_trial_balance().is_balanced
