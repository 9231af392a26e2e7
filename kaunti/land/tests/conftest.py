"""Fixtures of the land tests: the price list, a roll in force, rating terms, parcels."""

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from kaunti.core.models import AuditEvent, Ward
from kaunti.land.models import LandUse, Owner, Parcel, RatingYear, ValuationRoll
from kaunti.land.services.owners import ShareInput, find_or_create_owner, register_first_owners
from kaunti.land.services.parcels import ParcelInput, register_parcel
from kaunti.land.services.rating import set_rating_rule, set_rating_year
from kaunti.land.services.roll import add_roll_entry, approve_roll, create_roll
from kaunti.ledger.services import load_chart_of_accounts
from kaunti.payments.models import Bill, Channel
from kaunti.payments.services.price_list import load_price_list
from kaunti.payments.services.recording import RecordedPayment, record_payment

FY = 2026


@pytest.fixture
def price_list(reference_data: None) -> None:
    load_chart_of_accounts()
    load_price_list(county_code=settings.COUNTY_CODE)


@pytest.fixture
def ward(reference_data: None) -> Ward:
    return Ward.objects.get(code="0441")


@pytest.fixture
def other_ward(reference_data: None) -> Ward:
    return Ward.objects.get(code="0442")


@pytest.fixture
def make_owner(reference_data: None) -> Callable[..., Owner]:
    counter = {"n": 0}

    def make(name: str = "", national_id: str = "") -> Owner:
        counter["n"] += 1
        return find_or_create_owner(
            kind="individual",
            name=name or f"Owner {counter['n']}",
            national_id=national_id or f"{20000000 + counter['n']}",
            actor=None,
        )

    return make


@pytest.fixture
def make_parcel(ward: Ward, make_owner: Callable[..., Owner]) -> Callable[..., Parcel]:
    counter = {"n": 0}

    def make(
        number: str = "",
        *,
        land_use: str = LandUse.AGRICULTURAL,
        owners: list[Owner] | None = None,
        parcel_ward: Ward | None = None,
        zone: str = "",
    ) -> Parcel:
        counter["n"] += 1
        parcel = register_parcel(
            data=ParcelInput(
                number=number or f"NYANDARUA/OL KALOU/{1000 + counter['n']}",
                ward=parcel_ward or ward,
                area_hectares=Decimal("2.0000"),
                land_use=land_use,
                zone=zone,
            ),
            actor=None,
        )
        holders = owners if owners is not None else [make_owner()]
        if holders:
            register_first_owners(
                parcel=parcel,
                shares=[ShareInput(owner, 1, len(holders)) for owner in holders],
                started_on=date(2020, 1, 1),
                actor=None,
            )
        return parcel

    return make


@pytest.fixture
def rating_year(price_list: None) -> RatingYear:
    """2026/27: due 30 September 2026, 1% a month on arrears; 0.1% of site value with a
    minimum of KES 500, 0.5% for commercial land."""
    year = set_rating_year(
        financial_year=FY,
        due_on=date(2026, 9, 30),
        penalty_percent_per_month=Decimal("1.00"),
        actor=None,
    )
    set_rating_rule(
        rating_year=year, rate_percent=Decimal("0.1"), minimum_charge=Decimal(500), actor=None
    )
    set_rating_rule(
        rating_year=year,
        land_use=LandUse.COMMERCIAL,
        rate_percent=Decimal("0.5"),
        minimum_charge=Decimal(2000),
        actor=None,
    )
    return year


@pytest.fixture
def roll_with(
    rating_year: RatingYear,
) -> Callable[[dict[Parcel, Decimal]], ValuationRoll]:
    """Approve a roll valuing the given parcels."""

    def make(values: dict[Parcel, Decimal]) -> ValuationRoll:
        roll = create_roll(name="Valuation roll 2026", valuation_date=date(2026, 1, 1), actor=None)
        for parcel, value in values.items():
            add_roll_entry(
                roll=roll,
                parcel=parcel,
                site_value=value,
                valuation_date=date(2026, 1, 1),
                actor=None,
            )
        return approve_roll(roll=roll, actor=None)

    return make


def pay(bill: Bill, amount: Decimal, ref: str, paid_at: datetime | None = None) -> RecordedPayment:
    """Pay a bill at the counter, through payments' one money path."""
    return record_payment(
        provider="counter",
        external_ref=ref,
        channel=Channel.CASH,
        amount=amount,
        paid_at=paid_at or timezone.now(),
        bill_number=bill.number,
        payer_name="Payer",
    )


@pytest.fixture
def audit_actions() -> Callable[[], list[str]]:
    def actions(**filters: Any) -> list[str]:
        return list(AuditEvent.objects.filter(**filters).values_list("action", flat=True))

    return actions
