"""Valuation rolls: import with a reject report, objections and approval."""

import io
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from openpyxl import Workbook

from kaunti.land.models import (
    ObjectionStatus,
    Parcel,
    RatingYear,
    RollEntry,
    RollImport,
    RollStatus,
)
from kaunti.land.selectors.rolls import get_roll_in_force
from kaunti.land.services.roll import (
    add_roll_entry,
    approve_roll,
    create_roll,
    decide_objection,
    import_roll,
    lodge_objection,
)


@pytest.fixture
def parcels(make_parcel: Callable[..., Parcel]) -> list[Parcel]:
    return [make_parcel(f"NYANDARUA/OL KALOU/{n}") for n in (1, 2, 3)]


CSV = (
    "parcel_number,site_value,valuation_date\n"
    "NYANDARUA/OL KALOU/1,1500000,2026-01-01\n"
    'nyandarua/ol kalou/2,"2,000,000",\n'
    "NYANDARUA/OL KALOU/99,100,2026-01-01\n"
    "NYANDARUA/OL KALOU/3,-5,2026-01-01\n"
    ",100,2026-01-01\n"
    "NYANDARUA/OL KALOU/1,1600000,2026-01-01\n"
    "NYANDARUA/OL KALOU/3,abc,2026-01-01\n"
    "NYANDARUA/OL KALOU/3,300000,01/13/2026\n"
)


def test_import_keeps_good_rows_and_reports_every_rejected_row(
    parcels: list[Parcel], reference_data: None
) -> None:
    roll = create_roll(name="Draft roll 2026", valuation_date=date(2026, 1, 1), actor=None)

    report = import_roll(roll=roll, file_name="roll.csv", content=CSV.encode(), actor=None)

    entries = dict(RollEntry.objects.filter(roll=roll).values_list("parcel__number", "site_value"))
    assert entries == {
        "NYANDARUA/OL KALOU/1": Decimal("1500000.00"),
        "NYANDARUA/OL KALOU/2": Decimal("2000000.00"),
    }
    assert (report.total_rows, report.accepted_count) == (8, 2)
    assert [(r["row"], r["reason"]) for r in report.rejected_rows] == [
        (4, "no parcel NYANDARUA/OLKALOU/99 is registered"),
        (5, "the site value cannot be negative"),
        (6, "the parcel number is missing"),
        (7, "parcel NYANDARUA/OL KALOU/1 is already on row 2 of this file"),
        (8, "the site value abc is not a number"),
        (9, "the valuation date 01/13/2026 is not a date (use YYYY-MM-DD)"),
    ]
    assert RollImport.objects.get() == report  # stored for staff to read later


def test_import_from_excel(parcels: list[Parcel], reference_data: None) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["Parcel number", "Site value", "Valuation date"])
    sheet.append(["NYANDARUA/OL KALOU/1", 1500000, date(2026, 1, 1)])
    sheet.append(["NYANDARUA/OL KALOU/7", 10, None])
    buffer = io.BytesIO()
    book.save(buffer)
    roll = create_roll(name="Draft", valuation_date=date(2026, 1, 1), actor=None)
    # headers with spaces are read as the CSV's names
    report = import_roll(roll=roll, file_name="roll.xlsx", content=buffer.getvalue(), actor=None)

    assert report.accepted_count == 1
    assert report.rejected_rows == [
        {"row": 3, "reason": "no parcel NYANDARUA/OLKALOU/7 is registered"}
    ]


def test_importing_the_same_file_twice_adds_nothing_twice(parcels: list[Parcel]) -> None:
    roll = create_roll(name="Draft", valuation_date=date(2026, 1, 1), actor=None)
    import_roll(roll=roll, file_name="roll.csv", content=CSV.encode(), actor=None)

    again = import_roll(roll=roll, file_name="roll.csv", content=CSV.encode(), actor=None)

    assert again.accepted_count == 0
    assert RollEntry.objects.filter(roll=roll).count() == 2
    assert "already on this roll" in again.rejected_rows[0]["reason"]


def test_an_upheld_objection_changes_the_value_and_keeps_the_old_one(
    parcels: list[Parcel], rating_year: RatingYear
) -> None:
    roll = create_roll(name="Draft", valuation_date=date(2026, 1, 1), actor=None)
    entry = add_roll_entry(
        roll=roll,
        parcel=parcels[0],
        site_value=Decimal(2000000),
        valuation_date=date(2026, 1, 1),
        actor=None,
    )
    objection = lodge_objection(
        entry=entry,
        objector_name="Owner 1",
        grounds="Valued as commercial; it is a farm.",
        proposed_value=Decimal(1200000),
        actor=None,
    )

    with pytest.raises(ValidationError):
        approve_roll(roll=roll, actor=None)  # an objection awaits a decision
    decided = decide_objection(
        objection=objection,
        upheld=True,
        new_value=Decimal(1300000),
        reason="Farm land; comparable sales.",
        actor=None,
    )

    entry.refresh_from_db()
    assert entry.site_value == Decimal("1300000.00")
    assert (decided.status, decided.value_before, decided.decided_value) == (
        ObjectionStatus.UPHELD,
        Decimal("2000000.00"),
        Decimal("1300000.00"),
    )
    with pytest.raises(ValidationError):
        decide_objection(objection=objection, upheld=False, reason="again", actor=None)


def test_approving_a_roll_publishes_it_and_supersedes_the_old_one(
    parcels: list[Parcel], rating_year: RatingYear
) -> None:
    old = create_roll(name="Valuation roll 2000", valuation_date=date(2000, 1, 1), actor=None)
    add_roll_entry(
        roll=old,
        parcel=parcels[0],
        site_value=Decimal(100000),
        valuation_date=date(2000, 1, 1),
        actor=None,
    )
    approve_roll(roll=old, actor=None)
    new = create_roll(name="Valuation roll 2026", valuation_date=date(2026, 1, 1), actor=None)
    entry = add_roll_entry(
        roll=new,
        parcel=parcels[0],
        site_value=Decimal(900000),
        valuation_date=date(2026, 1, 1),
        actor=None,
    )

    approve_roll(roll=new, actor=None)

    old.refresh_from_db()
    assert old.status == RollStatus.SUPERSEDED
    assert get_roll_in_force() == new
    with pytest.raises(ValidationError):
        lodge_objection(entry=entry, objector_name="Late", grounds="Too late", actor=None)
    with pytest.raises(ValidationError):
        import_roll(roll=new, file_name="roll.csv", content=CSV.encode(), actor=None)
