"""PostgreSQL's billing: the rates and payers computed by the database are exactly those of
the Python path, and chunks billed on two connections at once bill every parcel once."""

import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Sum
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from kaunti.core.models import AuditEvent, Department, JobState, Ward
from kaunti.core.services.jobs import create_job
from kaunti.land.models import (
    BillingRun,
    ChargeKind,
    LandUse,
    Owner,
    Parcel,
    ParcelCharge,
    RatingRule,
    RatingYear,
    RunState,
    ValuationRoll,
)
from kaunti.land.services.billing import bill_rates, billing_context
from kaunti.land.services.billing_chunks import price_chunk
from kaunti.land.services.billing_sql import postgres_plan, rates_case_sql
from kaunti.land.services.rating import choose_rule, compute_rates, set_rating_rule
from kaunti.ledger.selectors import get_account_balance, get_trial_balance
from kaunti.payments.models import Bill, BillLine
from kaunti.payments.services.bills import Payer, payer_key_for

from .conftest import FY

pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="the database computes the bills on PostgreSQL only",
)


def rates_in_sql(rules: list[RatingRule], *, site_value: Decimal, land_use: str, zone: str) -> Any:
    case, params = rates_case_sql(
        rules, site_value="p.site_value", land_use="p.land_use", zone="p.zone"
    )
    params.update(site_value=site_value, land_use=land_use, zone=zone)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {case} FROM (SELECT %(site_value)s::numeric AS site_value,"  # noqa: S608
            " %(land_use)s::text AS land_use, %(zone)s::text AS zone) p",
            params,
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db
@hypothesis_settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    site_value=st.decimals(min_value=0, max_value=Decimal("1e11"), places=2),
    rate=st.decimals(min_value=0, max_value=100, places=4),
    minimum=st.decimals(min_value=0, max_value=Decimal("1e6"), places=2),
)
def test_the_database_rates_as_compute_rates_does(
    site_value: Decimal, rate: Decimal, minimum: Decimal
) -> None:
    rule = RatingRule(land_use="", zone="", rate_percent=rate, minimum_charge=minimum)

    in_sql = rates_in_sql([rule], site_value=site_value, land_use="residential", zone="")

    expected = compute_rates(site_value=site_value, rate_percent=rate, minimum_charge=minimum)
    assert in_sql == expected
    assert str(in_sql) == str(expected)  # the same cents, written the same way


@pytest.mark.django_db
def test_the_database_picks_the_rule_choose_rule_picks() -> None:
    def rule(land_use: str, zone: str, rate: str) -> RatingRule:
        return RatingRule(
            land_use=land_use, zone=zone, rate_percent=Decimal(rate), minimum_charge=Decimal(0)
        )

    rules = [
        rule("", "", "1"),
        rule("commercial", "", "2"),
        rule("", "TOWN", "3"),
        rule("commercial", "TOWN", "4"),
        rule("residential", "LAKE", "5"),
    ]
    for land_use in ("agricultural", "commercial", "residential", ""):
        for zone in ("", "TOWN", "LAKE", "FARM"):
            chosen = choose_rule(rules, land_use=land_use, zone=zone)
            assert chosen is not None
            in_sql = rates_in_sql(rules, site_value=Decimal(10000), land_use=land_use, zone=zone)
            assert in_sql == Decimal(100) * chosen.rate_percent, (land_use, zone)
    without_general = rules[1:]
    assert choose_rule(without_general, land_use="agricultural", zone="FARM") is None
    assert (
        rates_in_sql(
            without_general, site_value=Decimal(10000), land_use="agricultural", zone="FARM"
        )
        is None
    )


@pytest.mark.django_db
def test_the_database_bills_exactly_the_rows_python_would(
    make_parcel: Callable[..., Parcel],
    make_owner: Callable[..., Owner],
    roll_with: Callable[[dict[Parcel, Decimal]], ValuationRoll],
    rating_year: RatingYear,
) -> None:
    set_rating_rule(
        rating_year=rating_year,
        zone="TOWN",
        rate_percent=Decimal("0.3333"),
        minimum_charge=Decimal("750.50"),
        actor=None,
    )
    long_names = [make_owner(name=f"{letter * 90} Kamau") for letter in "ABC"]
    parcels = {
        make_parcel(): Decimal("250005.00"),  # 250.005 -> 250.01 -> minimum 500
        make_parcel(): Decimal("1234567.00"),  # 1,234.567 -> 1,234.57
        make_parcel(): Decimal("2500050.00"),  # 2,500.05
        make_parcel(land_use=LandUse.COMMERCIAL): Decimal("999999.99"),  # 4,999.99995 -> 5,000
        make_parcel(zone="TOWN"): Decimal("4321987.65"),  # 0.3333% = 14,405.18
        make_parcel(zone="TOWN"): Decimal(0),  # the zone's minimum
        make_parcel(owners=[]): Decimal("1000000"),  # no owner on record
        make_parcel(owners=[make_owner(), make_owner(), make_owner()]): Decimal("3000000"),
        make_parcel(owners=long_names): Decimal("5000000"),  # names over 150 characters
    }
    roll = roll_with(parcels)
    ids = sorted(parcel.pk for parcel in parcels)
    ctx = billing_context(financial_year=FY, actor=None)
    expected, looked_at = price_chunk(ctx, after_id=ids[0] - 1, last_id=ids[-1])
    assert looked_at == len(parcels)
    assert roll.pk == ctx.roll.pk

    run = bill_rates(financial_year=FY, actor=None, chunk_size=4)

    assert run.bills_created == len(expected) == len(parcels)
    bills = {
        charge.parcel_id: charge.bill
        for charge in ParcelCharge.objects.filter(kind=ChargeKind.RATES).select_related("bill")
    }
    for item in expected:
        bill = bills[item.parcel_id]
        payer = item.payer
        assert (
            bill.total,
            bill.payer_name,
            bill.payer_id_number,
            bill.payer_kra_pin,
            bill.payer_phone,
            bill.payer_key,
            bill.ward_id,
            bill.description,
            bill.source_ref,
        ) == (
            item.amount,
            payer.name,
            payer.id_number,
            payer.kra_pin,
            payer.phone,
            payer_key_for(Payer(payer.name, payer.phone, payer.id_number, payer.kra_pin)),
            item.ward_id,
            f"Land rates 2026/27, {item.parcel_number}",
            f"{item.parcel_id}:{FY}",
        )
        assert list(bill.lines.values_list("amount", "unit_price", "quantity")) == [
            (item.amount, item.amount, Decimal(1))
        ]
        charge = ParcelCharge.objects.get(bill=bill)
        assert (charge.amount, charge.site_value, charge.run_id) == (
            item.amount,
            item.site_value,
            run.pk,
        )
    amounts = sorted(str(bill.total) for bill in bills.values())
    assert amounts == sorted(
        [
            "500.00", "1234.57", "2500.05", "5000.00", "14405.18", "750.50",
            "1000.00", "3000.00", "5000.00",
        ]
    )  # fmt: skip
    assert f"{'A' * 90} Kamau +2" in _payer_names()
    assert "Registered owner of " in " ".join(_payer_names())


def _payer_names() -> list[str]:
    return list(Bill.objects.values_list("payer_name", flat=True))


@pytest.fixture
def many_parcels(
    make_parcel: Callable[..., Parcel],
    roll_with: Callable[[dict[Parcel, Decimal]], ValuationRoll],
) -> list[Parcel]:
    parcels = [make_parcel() for _ in range(23)]
    roll_with({parcel: Decimal(600000 + 1000 * index) for index, parcel in enumerate(parcels)})
    return parcels


def _assert_billed_once(parcels: list[Parcel]) -> None:
    charges = ParcelCharge.objects.filter(kind=ChargeKind.RATES, financial_year=FY)
    assert sorted(charges.values_list("parcel_id", flat=True)) == sorted(p.pk for p in parcels)
    total = Bill.objects.filter(source_type="land.rates").aggregate(total=Sum("total"))["total"]
    assert total == sum(Decimal(600 + index) for index in range(len(parcels)))
    assert get_account_balance(code="1200") == total
    assert BillLine.objects.count() == len(parcels)
    assert get_trial_balance().is_balanced


@pytest.mark.django_db(transaction=True)
def test_two_workers_bill_every_parcel_once(many_parcels: list[Parcel]) -> None:
    job = create_job(kind="land.bill_rates")
    seen: list[tuple[int, int]] = []

    run = bill_rates(
        financial_year=FY,
        actor=None,
        job=job,
        chunk_size=3,
        workers=2,
        on_progress=lambda done, total: seen.append((done, total)),
    )

    _assert_billed_once(many_parcels)
    assert (run.state, run.bills_created) == (RunState.FINISHED, 23)
    assert run.amount_billed == get_account_balance(code="1200")
    assert run.last_parcel_id == many_parcels[-1].pk
    events = AuditEvent.objects.filter(action="land.rates_billed")
    assert sorted(event.data["bills"] for event in events) == [2] + [3] * 7
    done = [done for done, _total in seen]  # chunks may commit out of order
    assert (len(done), done[0], done[-1], sorted(done)) == (9, 0, 23, done)
    job.refresh_from_db()
    assert (job.state, job.done, job.total) == (JobState.SUCCEEDED, 23, 23)


class Crash(Exception):
    """Stands in for the process dying while chunks are in flight."""


@pytest.mark.django_db(transaction=True)
def test_a_parallel_run_stopped_half_way_resumes_without_duplicates(
    many_parcels: list[Parcel],
) -> None:
    reports = {"n": 0}

    def crash_on_the_third_chunk(done: int, total: int) -> None:
        reports["n"] += 1
        if reports["n"] == 4:  # the start, then three chunks
            raise Crash

    with pytest.raises(Crash):
        bill_rates(
            financial_year=FY,
            actor=None,
            chunk_size=3,
            workers=2,
            on_progress=crash_on_the_third_chunk,
        )
    stopped = BillingRun.objects.get()
    billed = ParcelCharge.objects.filter(kind=ChargeKind.RATES).count()
    assert stopped.state == RunState.FAILED
    assert 6 <= billed < 23  # whole chunks: the ones reported and those in flight
    assert billed % 3 == 0
    assert stopped.bills_created == billed
    # The resume point never passes a parcel not billed yet.
    below = [parcel for parcel in many_parcels if parcel.pk <= stopped.last_parcel_id]
    assert ParcelCharge.objects.filter(parcel__in=below).count() == len(below) >= 3

    resumed = bill_rates(financial_year=FY, actor=None, chunk_size=3, workers=2)

    assert resumed.pk == stopped.pk
    assert resumed.bills_created == 23
    _assert_billed_once(many_parcels)


# --- The row-by-row foreign-key checks (ADR 9) ---------------------------------------------


@pytest.fixture
def plain_role() -> Iterator[Callable[..., None]]:
    """Run what follows as a role with the app's table rights but not a superuser's, as a
    county's database may be set up; `grant_bulk_load=True` gives it the one parameter
    right that lets billing turn the row checks off. Rolled back with the test."""
    name = f"kaunti_plain_{uuid.uuid4().hex[:12]}"

    def become(*, grant_bulk_load: bool = False) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE ROLE {name} NOLOGIN")
            cursor.execute(f"GRANT USAGE ON SCHEMA public TO {name}")
            cursor.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {name}")
            cursor.execute(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {name}")
            if grant_bulk_load:
                cursor.execute(f"GRANT SET ON PARAMETER session_replication_role TO {name}")
            cursor.execute(f"SET ROLE {name}")

    yield become
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")


def _checks_off() -> bool:
    ctx = billing_context(financial_year=FY, actor=None)
    return postgres_plan(ctx, BillingRun(pk=0)).checks_off


@pytest.mark.django_db
def test_a_role_without_the_right_bills_the_same_with_every_row_checked(
    many_parcels: list[Parcel], plain_role: Callable[..., None]
) -> None:
    assert _checks_off()  # the test database's own role is a superuser
    plain_role()
    assert not _checks_off()

    run = bill_rates(financial_year=FY, actor=None, chunk_size=5)

    assert run.bills_created == 23
    _assert_billed_once(many_parcels)


@pytest.mark.django_db
def test_a_role_given_the_parameter_right_bills_in_bulk(
    many_parcels: list[Parcel], plain_role: Callable[..., None]
) -> None:
    plain_role(grant_bulk_load=True)
    assert _checks_off()

    bill_rates(financial_year=FY, actor=None, chunk_size=5)

    _assert_billed_once(many_parcels)
    # Every reference stands, as the checks would ask.
    assert not Bill.objects.exclude(department__in=Department.objects.all()).exists()
    assert not Bill.objects.exclude(ward__in=Ward.objects.all()).exists()


@pytest.mark.django_db
def test_a_trigger_on_a_bill_table_keeps_the_row_checks_on(many_parcels: list[Parcel]) -> None:
    # Turning the checks off would silence any trigger of the bill tables as well.
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION kaunti_test_noop() RETURNS trigger LANGUAGE plpgsql"
            " AS $$ BEGIN RETURN NEW; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER kaunti_test_noop AFTER INSERT ON land_parcelcharge"
            " FOR EACH ROW EXECUTE FUNCTION kaunti_test_noop()"
        )

    assert not _checks_off()
