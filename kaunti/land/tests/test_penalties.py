"""Monthly penalties: once per parcel and month, never during a waiver, on the money path."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command

from kaunti.core.models import AuditEvent
from kaunti.land.models import ChargeKind, Parcel, ParcelCharge
from kaunti.land.services import penalties as penalty_service
from kaunti.land.services.billing import bill_rates
from kaunti.land.services.penalties import apply_monthly_penalties
from kaunti.land.services.rating import create_waiver_campaign
from kaunti.ledger.models import JournalEntry
from kaunti.ledger.selectors import get_account_balance, get_trial_balance
from kaunti.payments.models import Bill, RevenueStream
from kaunti.payments.services.bills import Payer, credit_balance
from kaunti.payments.tests.factories import BillFactory, PaymentFactory

from .conftest import FY


@pytest.fixture
def billed(make_parcel: Callable[..., Parcel], roll_with: Callable[..., object]) -> list[Parcel]:
    """Three parcels billed 1,000.00, 800.00 and 600.00 for 2026/27, due 30 September 2026."""
    parcels = [make_parcel() for _ in range(3)]
    roll_with(
        {parcels[0]: Decimal(1000000), parcels[1]: Decimal(800000), parcels[2]: Decimal(600000)}
    )
    bill_rates(financial_year=FY, actor=None)
    return parcels


def rates_bill(parcel: Parcel) -> Bill:
    return ParcelCharge.objects.get(parcel=parcel, kind=ChargeKind.RATES).bill


def penalties() -> dict[tuple[int, date], Decimal]:
    return {
        (c.parcel_id, c.period): c.bill.total
        for c in ParcelCharge.objects.filter(kind=ChargeKind.PENALTY).select_related("bill")
    }


def test_penalties_are_charged_once_per_month_on_what_is_unpaid(billed: list[Parcel]) -> None:
    PaymentFactory.create(
        bill=rates_bill(billed[1]),
        amount=Decimal("800.00"),
        external_ref="PAID-ALL",
        at_counter=True,
    )
    PaymentFactory.create(
        bill=rates_bill(billed[2]),
        amount=Decimal("100.00"),
        external_ref="PAID-PART",
        at_counter=True,
    )

    first = apply_monthly_penalties(month=date(2026, 10, 15), actor=None)
    again = apply_monthly_penalties(month=date(2026, 10, 1), actor=None)

    assert (first.penalties_charged, first.amount) == (2, Decimal("15.00"))
    assert (again.penalties_charged, again.amount) == (0, Decimal("0.00"))
    assert penalties() == {
        (billed[0].pk, date(2026, 10, 1)): Decimal("10.00"),  # 1% of 1,000
        (billed[2].pk, date(2026, 10, 1)): Decimal("5.00"),  # 1% of 500 unpaid
    }
    penalty_bill = ParcelCharge.objects.get(parcel=billed[0], kind=ChargeKind.PENALTY).bill
    assert penalty_bill.source_type == "land.rates"
    assert get_trial_balance().is_balanced


def test_no_penalty_before_the_due_date(billed: list[Parcel]) -> None:
    result = apply_monthly_penalties(month=date(2026, 9, 1), actor=None)

    assert result.penalties_charged == 0
    assert penalties() == {}


def test_penalties_are_not_charged_on_penalties(billed: list[Parcel]) -> None:
    apply_monthly_penalties(month=date(2026, 10, 1), actor=None)
    apply_monthly_penalties(month=date(2026, 11, 1), actor=None)

    assert penalties()[(billed[0].pk, date(2026, 11, 1))] == Decimal("10.00")


def test_no_penalty_while_a_waiver_campaign_runs(billed: list[Parcel]) -> None:
    create_waiver_campaign(
        name="Pay by 30 June, no penalties",
        starts_on=date(2026, 11, 1),
        ends_on=date(2027, 6, 30),
        actor=None,
    )
    bills_before = Bill.objects.count()

    waived = apply_monthly_penalties(month=date(2027, 1, 1), actor=None)
    after = apply_monthly_penalties(month=date(2027, 7, 1), actor=None)

    assert waived.waived
    assert waived.penalties_charged == 0
    assert not after.waived
    assert after.penalties_charged == 3
    assert Bill.objects.count() == bills_before + 3
    assert {period for (_, period) in penalties()} == {date(2027, 7, 1)}


def test_the_command_runs_a_month(billed: list[Parcel], capsys: pytest.CaptureFixture[str]) -> None:
    call_command("apply_land_penalties", "--month", "2026-10")
    call_command("apply_land_penalties", "--month", "2026-10")

    out = capsys.readouterr().out
    assert "2026-10: 3 penalties, KES 24.00" in out
    assert "2026-10: 0 penalties, KES 0.00" in out


def test_penalties_are_revenue_of_their_own_in_the_ledger(billed: list[Parcel]) -> None:
    apply_monthly_penalties(month=date(2026, 10, 1), actor=None)

    penalty_bill = ParcelCharge.objects.get(parcel=billed[0], kind=ChargeKind.PENALTY).bill
    assert list(penalty_bill.lines.values_list("stream__code", flat=True)) == ["land-rates-penalty"]
    assert get_account_balance(code="4125") == Decimal("-24.00")  # 1% of 1,000 + 800 + 600
    assert get_account_balance(code="4120") == Decimal("-2400.00")  # the rates alone


def test_a_price_list_without_the_penalty_stream_bills_penalties_as_rates(
    billed: list[Parcel], caplog: pytest.LogCaptureFixture
) -> None:
    RevenueStream.objects.filter(code="land-rates-penalty").delete()

    result = apply_monthly_penalties(month=date(2026, 10, 1), actor=None)

    assert result.penalties_charged == 3
    penalty_bill = ParcelCharge.objects.get(parcel=billed[0], kind=ChargeKind.PENALTY).bill
    assert list(penalty_bill.lines.values_list("stream__code", flat=True)) == ["land-rates"]
    assert "no land-rates-penalty stream" in caplog.text


def test_penalties_are_charged_in_batches_each_balanced_and_audited(
    billed: list[Parcel], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(penalty_service, "BATCH", 2)

    result = apply_monthly_penalties(month=date(2026, 10, 1), actor=None)

    assert (result.penalties_charged, result.amount) == (3, Decimal("24.00"))
    entries = JournalEntry.objects.filter(source_type="land.penalty_run").order_by("id")
    assert [entry.lines.count() for entry in entries] == [2, 2]  # one ward: receivable, revenue
    batches = AuditEvent.objects.filter(action="land.penalties_billed").order_by("id")
    assert [event.data["bills"] for event in batches] == [2, 1]
    assert get_account_balance(code="1200") == Decimal("2424.00")  # rates and penalties owed
    assert get_trial_balance().is_balanced


def test_a_run_stopped_between_batches_is_finished_by_running_the_month_again(
    billed: list[Parcel], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(penalty_service, "BATCH", 2)
    write_batch = penalty_service._write_batch
    calls = {"n": 0}

    def stop_on_the_second_batch(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the worker died")
        return write_batch(*args, **kwargs)

    monkeypatch.setattr(penalty_service, "_write_batch", stop_on_the_second_batch)
    with pytest.raises(RuntimeError):
        apply_monthly_penalties(month=date(2026, 10, 1), actor=None)
    assert len(penalties()) == 2  # the first batch, whole

    again = apply_monthly_penalties(month=date(2026, 10, 1), actor=None)

    assert again.penalties_charged == 1
    assert sorted(penalties().values()) == [Decimal("6.00"), Decimal("8.00"), Decimal("10.00")]
    assert get_trial_balance().is_balanced


def test_a_payers_credit_pays_towards_their_penalty(billed: list[Parcel]) -> None:
    rates = rates_bill(billed[0])
    market = BillFactory.create(
        payer=Payer("Market stall", id_number=rates.payer_id_number),
        amount=Decimal(50),
        due_on=date(2026, 10, 31),
    )
    PaymentFactory.create(
        bill=market, amount=Decimal("54.00"), external_ref="OVERPAID", at_counter=True
    )  # 4.00 in credit, after the rates were billed

    apply_monthly_penalties(month=date(2026, 10, 1), actor=None)

    penalty = ParcelCharge.objects.get(parcel=billed[0], kind=ChargeKind.PENALTY).bill
    assert (penalty.total, penalty.paid, penalty.status) == (
        Decimal("10.00"),
        Decimal("4.00"),
        "partly_paid",
    )
    assert credit_balance(payer_key=rates.payer_key) == 0
    assert get_trial_balance().is_balanced
