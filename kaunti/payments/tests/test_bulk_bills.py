"""Bills raised many at once for another app's run (`raise_bills`): the same bills a
person would find after `create_bill`, booked in one journal entry."""

from datetime import date
from decimal import Decimal

import pytest

from kaunti.core.models import Department, Ward
from kaunti.ledger.models import JournalEntry
from kaunti.ledger.selectors import get_account_balance, get_trial_balance
from kaunti.payments.models import Bill, RevenueStream
from kaunti.payments.numbering import is_valid_bill_number
from kaunti.payments.services.bills import (
    Booking,
    BulkTerms,
    NewBill,
    Payer,
    payer_key_for,
    raise_bills,
)

pytestmark = pytest.mark.django_db


def test_bills_raised_in_bulk_are_open_numbered_and_booked_once(price_list: None) -> None:
    wards = list(Ward.objects.order_by("pk")[:2])
    stream = RevenueStream.objects.select_related("account").get(code="market-fee")
    payers = [
        Payer("Wanjiru Njoroge", phone="254712000222", id_number="22334455"),
        Payer("Kamau Otieno " + "K" * 200),  # longer than a bill holds
        Payer("Achieng Atieno", kra_pin="A012345678Z"),
    ]
    new = [
        NewBill(
            payer=payer,
            amount=Decimal(amount),
            ward_id=ward.pk,
            description=f"Stall {index}",
            description_sw=f"Kibanda {index}",
            source_ref=f"stall:{index}",
            line_description="Stall rent" if index == 2 else "",
        )
        for index, (payer, amount, ward) in enumerate(
            zip(payers, ["100.00", "250.50", "40.00"], [wards[0], wards[1], wards[0]], strict=True)
        )
    ]

    bills = raise_bills(
        new,
        terms=BulkTerms(
            department=Department.objects.get(code="trade"),
            stream=stream,
            due_on=date(2026, 12, 31),
            source_type="test.stalls",
            actor=None,
        ),
        booking=Booking(memo="Stall rents", source_type="test.stall_run", source_ref="run:1"),
    )

    assert [bill.source_ref for bill in bills] == ["stall:0", "stall:1", "stall:2"]
    saved = {bill.source_ref: bill for bill in Bill.objects.filter(source_type="test.stalls")}
    assert len(saved) == 3
    for bill, item in zip(bills, new, strict=True):
        row = saved[item.source_ref]
        assert (row.number, row.status, row.total, row.paid) == (
            bill.number, "open", item.amount, Decimal(0)
        )  # fmt: skip
        assert is_valid_bill_number(row.number)
        assert row.payer_key == payer_key_for(item.payer)
        assert [(line.description, line.amount) for line in row.lines.all()] == [
            (item.line_description or stream.name, item.amount)
        ]
    assert len(saved["stall:1"].payer_name) == 150
    entry = JournalEntry.objects.get(source_type="test.stall_run", source_ref="run:1")
    assert entry.memo == "Stall rents"
    assert get_account_balance(code="1200") == Decimal("390.50")
    assert get_trial_balance().is_balanced


def test_nothing_to_raise_books_nothing(price_list: None) -> None:
    stream = RevenueStream.objects.select_related("account").get(code="market-fee")
    terms = BulkTerms(
        department=Department.objects.get(code="trade"),
        stream=stream,
        due_on=date(2026, 12, 31),
        source_type="test.stalls",
        actor=None,
    )

    assert raise_bills([], terms=terms, booking=Booking("-", "test.stall_run", "run:2")) == []
    assert not JournalEntry.objects.filter(source_type="test.stall_run").exists()
