from decimal import Decimal

import pytest
from django.utils import timezone

from kaunti.conftest import read_sms
from kaunti.core.models import AuditEvent
from kaunti.ledger.models import JournalEntry
from kaunti.ledger.selectors import get_account_balance, get_trial_balance
from kaunti.payments.models import (
    Allocation,
    Bill,
    BillStatus,
    Channel,
    PayerCredit,
    Payment,
    Receipt,
)
from kaunti.payments.services.bills import LineInput, Payer, apply_payer_credits, credit_balance
from kaunti.payments.services.recording import record_payment
from kaunti.payments.services.suspense import assign_suspense_payment

pytestmark = pytest.mark.django_db


def pay(bill_number: str, amount: str, ref: str = "RKTQDM7W6S", provider: str = "mpesa-c2b"):
    return record_payment(
        provider=provider,
        external_ref=ref,
        channel=Channel.MPESA_PAYBILL,
        amount=Decimal(amount),
        paid_at=timezone.now(),
        bill_number=bill_number,
        payer_phone="254712000222",
        mpesa_receipt=ref,
    )


def test_raising_a_bill_books_receivable_and_revenue(make_bill) -> None:
    bill = make_bill(Decimal("1500.00"))
    assert bill.status == BillStatus.OPEN
    assert len(bill.number) == 9
    assert get_account_balance(code="1200") == Decimal("1500.00")
    assert get_account_balance(code="4210") == Decimal("-1500.00")
    assert get_trial_balance().is_balanced


def test_full_payment_settles_the_bill_issues_a_receipt_and_texts_the_payer(
    make_bill, sms_file, django_capture_on_commit_callbacks
) -> None:
    bill = make_bill(Decimal("1500.00"))
    with django_capture_on_commit_callbacks(execute=True):
        recorded = pay(bill.number.lower(), "1500")
    bill.refresh_from_db()
    assert recorded.created
    assert bill.status == BillStatus.PAID
    assert bill.paid == Decimal("1500.00")
    receipt = Receipt.objects.get(payment=recorded.payment)
    assert receipt.number.endswith("-000001")
    assert get_account_balance(code="1100") == Decimal("1500.00")
    assert get_account_balance(code="1200") == Decimal("0.00")
    assert get_trial_balance().is_balanced
    messages = read_sms(sms_file)
    assert len(messages) == 1
    assert receipt.number in messages[0]["message"]
    assert "Bill fully paid" in messages[0]["message"]


def test_a_repeated_reference_records_one_payment(make_bill) -> None:
    bill = make_bill(Decimal("1000.00"))
    first = pay(bill.number, "600")
    second = pay(bill.number, "600")
    bill.refresh_from_db()
    assert not second.created
    assert second.payment.pk == first.payment.pk
    assert Payment.objects.count() == 1
    assert Receipt.objects.count() == 1
    assert bill.paid == Decimal("600.00")
    assert bill.status == BillStatus.PARTLY_PAID


def test_unknown_bill_number_goes_to_suspense_and_can_be_assigned(make_bill) -> None:
    bill = make_bill(Decimal("800.00"))
    recorded = pay("NOSUCHBILL", "800")
    assert recorded.payment.is_in_suspense
    assert get_account_balance(code="2100") == Decimal("-800.00")
    assign_suspense_payment(payment=recorded.payment, bill_number=bill.number, actor=None)
    bill.refresh_from_db()
    assert bill.status == BillStatus.PAID
    assert get_account_balance(code="2100") == Decimal("0.00")
    assert get_trial_balance().is_balanced


def test_overpayment_becomes_credit_that_the_next_bill_uses_first(make_bill) -> None:
    payer = Payer(name="Kamau Mwangi", phone="0722000333", id_number="11223344")
    first = make_bill(Decimal("1000.00"), payer=payer)
    pay(first.number, "1300")
    assert PayerCredit.objects.get().amount == Decimal("300.00")
    second = make_bill(Decimal("500.00"), payer=payer)
    assert second.paid == Decimal("300.00")
    assert second.status == BillStatus.PARTLY_PAID
    assert Allocation.objects.get(bill=second).from_credit
    assert get_account_balance(code="2200") == Decimal("0.00")
    assert get_trial_balance().is_balanced


def test_bill_lines_priced_from_the_price_list(make_bill) -> None:
    bill = make_bill(None, lines=[LineInput("produce-cess-potatoes", quantity=Decimal(12))])
    assert bill.total == Decimal("240.00")


def test_credit_is_used_on_a_batch_of_bills_in_the_order_given(make_bill) -> None:
    kamau = Payer(name="Kamau Mwangi", phone="0722000333", id_number="11223344")
    wanjiru = Payer(name="Wanjiru Njoroge", phone="0712000222", id_number="22334455")
    kamau_bills = [make_bill(Decimal("250.00"), payer=kamau) for _ in range(3)]
    wanjiru_bill = make_bill(Decimal("400.00"), payer=wanjiru)
    # Overpayments of earlier bills: Kamau 1,000 on 700, Wanjiru 500 on 400.
    pay(make_bill(Decimal("700.00"), payer=kamau).number, "1000", ref="RKTQDM7W6A")
    pay(make_bill(Decimal("100.00"), payer=wanjiru).number, "200", ref="RKTQDM7W6B")

    third, second, first = kamau_bills[2], kamau_bills[1], kamau_bills[0]
    used = apply_payer_credits(
        bill_ids=[third.pk, wanjiru_bill.pk, first.pk, second.pk], actor=None
    )

    assert used == Decimal("400.00")  # Kamau's 300 and Wanjiru's 100
    paid = {
        bill.pk: bill.paid
        for bill in Bill.objects.filter(payer_key__in=["id:11223344", "id:22334455"])
    }
    assert (paid[third.pk], paid[first.pk], paid[second.pk]) == (
        Decimal("250.00"),
        Decimal("50.00"),
        Decimal("0.00"),
    )
    assert paid[wanjiru_bill.pk] == Decimal("100.00")
    assert credit_balance(payer_key="id:11223344") == Decimal("0.00")
    assert credit_balance(payer_key="id:22334455") == Decimal("0.00")
    assert Bill.objects.get(pk=third.pk).status == BillStatus.PAID
    assert JournalEntry.objects.filter(source_type="credit").count() == 3
    assert AuditEvent.objects.filter(action="payments.credit_applied").count() == 3
    assert get_account_balance(code="2200") == Decimal("0.00")
    assert get_trial_balance().is_balanced
