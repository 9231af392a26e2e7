"""The annual rates billing: one bill per rateable parcel and year, whatever happens."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from kaunti.core.models import AuditEvent, Job, JobState
from kaunti.core.services.jobs import create_job
from kaunti.land.models import BillingRun, ChargeKind, LandUse, Parcel, ParcelCharge, RunState
from kaunti.land.services.billing import bill_rates
from kaunti.land.services.billing_jobs import start_billing_job
from kaunti.ledger.models import JournalLine
from kaunti.ledger.selectors import get_account_balance, get_trial_balance
from kaunti.payments.models import Bill, BillLine
from kaunti.payments.services.bills import Payer, credit_balance
from kaunti.payments.tests.factories import BillFactory, PaymentFactory

from .conftest import FY


class Crash(Exception):
    """Stands in for the process dying between two chunks."""


@pytest.fixture
def billed_world(
    make_parcel: Callable[..., Parcel], roll_with: Callable[..., object]
) -> list[Parcel]:
    """Seven parcels on the roll in force; one more registered but not on the roll."""
    parcels = [make_parcel() for _ in range(6)] + [make_parcel(land_use=LandUse.COMMERCIAL)]
    roll_with(
        {
            parcels[0]: Decimal("1000000"),  # 0.1% = 1,000
            parcels[1]: Decimal("0"),  # minimum 500
            parcels[2]: Decimal("250005"),  # 250.005 -> 250.01 -> minimum 500
            parcels[3]: Decimal("1234567"),  # 1,234.567 -> 1,234.57
            parcels[4]: Decimal("800000"),  # 800
            parcels[5]: Decimal("600000"),  # 600
            parcels[6]: Decimal("1000000"),  # commercial 0.5% = 5,000
        }
    )
    make_parcel()  # not on the roll: not billed
    return parcels


def rates_bills() -> dict[int, Decimal]:
    return dict(
        ParcelCharge.objects.filter(kind=ChargeKind.RATES, financial_year=FY).values_list(
            "parcel_id", "bill__total"
        )
    )


EXPECTED = ["1000.00", "500.00", "500.00", "1234.57", "800.00", "600.00", "5000.00"]


def test_billing_raises_one_bill_per_parcel_on_the_roll(billed_world: list[Parcel]) -> None:
    run = bill_rates(financial_year=FY, actor=None, chunk_size=3)

    assert rates_bills() == {p.pk: Decimal(a) for p, a in zip(billed_world, EXPECTED, strict=True)}
    assert run.state == RunState.FINISHED
    assert run.bills_created == 7
    assert run.amount_billed == Decimal("9634.57")
    bill = Bill.objects.get(source_type="land.rates", source_ref=f"{billed_world[0].pk}:{FY}")
    assert bill.status == "open"
    assert bill.ward_id == billed_world[0].ward_id
    assert str(bill.due_on) == "2026-09-30"
    assert bill.payer_name.startswith("Owner ")
    assert list(bill.lines.values_list("amount", flat=True)) == [Decimal("1000.00")]
    assert get_account_balance(code="1200") == Decimal("9634.57")
    assert get_account_balance(code="4120") == Decimal("-9634.57")  # debit less credit
    assert get_trial_balance().is_balanced
    # One audit event per chunk of three parcels, naming the count.
    chunks = AuditEvent.objects.filter(action="land.rates_billed").order_by("id")
    assert [event.data["bills"] for event in chunks] == [3, 3, 1]


def test_billing_twice_creates_nothing_new(billed_world: list[Parcel]) -> None:
    bill_rates(financial_year=FY, actor=None, chunk_size=3)
    before = (Bill.objects.count(), BillLine.objects.count(), JournalLine.objects.count())

    second = bill_rates(financial_year=FY, actor=None, chunk_size=3)

    assert second.bills_created == 0
    assert (Bill.objects.count(), BillLine.objects.count(), JournalLine.objects.count()) == before
    assert len(rates_bills()) == 7


def test_billing_resumed_after_a_crash_creates_no_duplicates_and_misses_no_parcel(
    billed_world: list[Parcel],
) -> None:
    calls = {"n": 0}

    def crash_after_second_chunk(done: int, total: int) -> None:
        calls["n"] += 1
        if calls["n"] == 3:  # the first call reports the start; then one per chunk
            raise Crash

    with pytest.raises(Crash):
        bill_rates(
            financial_year=FY, actor=None, chunk_size=2, on_progress=crash_after_second_chunk
        )
    stopped = BillingRun.objects.get()
    assert stopped.state == RunState.FAILED
    assert len(rates_bills()) == 4
    assert stopped.last_parcel_id == billed_world[3].pk

    resumed = bill_rates(financial_year=FY, actor=None, chunk_size=2)

    assert resumed.pk == stopped.pk  # the same run, picked up where it stopped
    assert rates_bills() == {p.pk: Decimal(a) for p, a in zip(billed_world, EXPECTED, strict=True)}
    assert Bill.objects.filter(source_type="land.rates").count() == 7
    assert resumed.bills_created == 7
    assert get_account_balance(code="1200") == Decimal("9634.57")


def test_a_new_run_after_a_lost_progress_record_still_bills_nothing_twice(
    billed_world: list[Parcel],
) -> None:
    bill_rates(financial_year=FY, actor=None, chunk_size=3)
    extra = billed_world[0]
    # Even starting again from the first parcel, billed parcels are skipped.
    BillingRun.objects.update(state=RunState.FAILED, last_parcel_id=0)

    run = bill_rates(financial_year=FY, actor=None, chunk_size=3)

    assert run.bills_created == 7  # the run's own count is unchanged
    assert ParcelCharge.objects.filter(parcel=extra, kind=ChargeKind.RATES).count() == 1
    assert Bill.objects.filter(source_type="land.rates").count() == 7


def test_billing_is_refused_without_rates_for_the_year(billed_world: list[Parcel]) -> None:
    with pytest.raises(ValidationError):
        bill_rates(financial_year=FY + 1, actor=None)
    assert not BillingRun.objects.exists()
    assert not Bill.objects.exists()


def test_the_job_shows_progress_and_ends_full(billed_world: list[Parcel]) -> None:
    job = create_job(kind="land.bill_rates")
    seen: list[tuple[int, int]] = []

    bill_rates(
        financial_year=FY,
        actor=None,
        job=job,
        chunk_size=5,
        on_progress=lambda d, t: seen.append((d, t)),
    )

    job.refresh_from_db()
    assert (job.state, job.done, job.total) == (JobState.SUCCEEDED, 7, 7)
    assert seen == [(0, 7), (5, 7), (7, 7)]


def test_the_celery_task_runs_the_billing_job(
    billed_world: list[Parcel], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        job = start_billing_job(financial_year=FY, actor=None)

    job = Job.objects.get(pk=job.pk)
    assert (job.state, job.done, job.total) == (JobState.SUCCEEDED, 7, 7)
    assert len(rates_bills()) == 7


def test_the_command_prints_a_progress_bar(
    billed_world: list[Parcel], capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("bill_land_rates", "--year", "2026/27", "--chunk-size", "4")

    out = capsys.readouterr().out
    assert "[" + "#" * 40 + "] 7/7 parcels" in out
    assert "7 bills in this run" in out
    assert len(rates_bills()) == 7


def test_parcels_not_rateable_are_not_billed(
    make_parcel: Callable[..., Parcel], roll_with: Callable[..., object]
) -> None:
    parcel = make_parcel()
    exempt = make_parcel()
    Parcel.objects.filter(pk=exempt.pk).update(is_rateable=False)
    roll_with({parcel: Decimal(100000), exempt: Decimal(100000)})

    bill_rates(financial_year=FY, actor=None)

    assert list(rates_bills()) == [parcel.pk]


# --- A payer's credit -----------------------------------------------------------------------


def _overpaid_earlier_bill(*, national_id: str, by: Decimal) -> Bill:
    """A market-fee bill of KES 50 for the owner with `national_id`, paid `by` too much:
    the payer now holds `by` in credit."""
    earlier = BillFactory.create(
        payer=Payer("Wanjiku Mwangi", id_number=national_id),
        amount=Decimal(50),
        due_on=date(2026, 6, 30),
    )
    PaymentFactory.create(
        bill=earlier, amount=Decimal(50) + by, external_ref=f"OVER-{national_id}", at_counter=True
    )
    assert credit_balance(payer_key=f"id:{national_id}") == by
    return earlier


def test_a_payers_credit_pays_towards_their_new_rates_bill(
    make_parcel: Callable[..., Parcel],
    make_owner: Callable[..., Any],
    roll_with: Callable[..., object],
    audit_actions: Callable[..., list[str]],
) -> None:
    owner = make_owner(name="Wanjiku Mwangi", national_id="31234567")
    credited, other = make_parcel(owners=[owner]), make_parcel()
    roll_with({credited: Decimal("1000000"), other: Decimal("800000")})  # 1,000 and 800
    _overpaid_earlier_bill(national_id="31234567", by=Decimal(300))

    run = bill_rates(financial_year=FY, actor=None, chunk_size=1)

    bill = ParcelCharge.objects.get(parcel=credited, kind=ChargeKind.RATES).bill
    assert (bill.total, bill.paid, bill.status) == (Decimal(1000), Decimal(300), "partly_paid")
    untouched = ParcelCharge.objects.get(parcel=other, kind=ChargeKind.RATES).bill
    assert (untouched.paid, untouched.status) == (Decimal(0), "open")
    assert credit_balance(payer_key="id:31234567") == 0
    assert get_account_balance(code="1200") == Decimal(1800 - 300)  # receivables
    assert get_trial_balance().is_balanced
    assert audit_actions(action="payments.credit_applied") == ["payments.credit_applied"]
    finished = AuditEvent.objects.get(action="land.billing_run_finished")
    assert finished.data["credit_used"] == "300.00"

    again = bill_rates(financial_year=FY, actor=None)  # nothing new, no credit used twice

    assert (run.bills_created, again.bills_created) == (2, 0)
    bill.refresh_from_db()
    assert bill.paid == Decimal(300)
    assert audit_actions(action="payments.credit_applied") == ["payments.credit_applied"]


def test_a_credit_larger_than_the_bill_pays_it_and_the_rest_is_kept(
    make_parcel: Callable[..., Parcel],
    make_owner: Callable[..., Any],
    roll_with: Callable[..., object],
) -> None:
    owner = make_owner(national_id="29876543")
    parcel = make_parcel(owners=[owner])
    roll_with({parcel: Decimal("1000000")})
    _overpaid_earlier_bill(national_id="29876543", by=Decimal(1500))

    bill_rates(financial_year=FY, actor=None)

    bill = ParcelCharge.objects.get(parcel=parcel, kind=ChargeKind.RATES).bill
    assert (bill.paid, bill.status) == (Decimal(1000), "paid")
    assert credit_balance(payer_key="id:29876543") == Decimal(500)
    assert get_trial_balance().is_balanced
