"""Fixtures of the land tests: the price list, a roll in force, rating terms, parcels."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings

from kaunti.core.models import AuditEvent, Ward
from kaunti.land.models import LandUse, Owner, Parcel, RatingYear, ValuationRoll
from kaunti.land.services.billing import bill_rates
from kaunti.land.services.rating import set_rating_rule, set_rating_year
from kaunti.land.tests.factories import OwnerFactory, ParcelFactory, ValuationRollFactory
from kaunti.ledger.services import load_chart_of_accounts
from kaunti.payments.services.price_list import load_price_list

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
    """`OwnerFactory` once the reference data is loaded."""

    def make(**fields: Any) -> Owner:
        return OwnerFactory.create(**fields)

    return make


@pytest.fixture
def make_parcel(reference_data: None) -> Callable[..., Parcel]:
    """`ParcelFactory` once the wards exist: `make_parcel(number, parcel_ward=..., owners=...)`."""

    def make(number: str = "", *, parcel_ward: Ward | None = None, **fields: Any) -> Parcel:
        if number:
            fields["number"] = number
        if parcel_ward is not None:
            fields["ward"] = parcel_ward
        return ParcelFactory.create(**fields)

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
        return ValuationRollFactory.create(values=values)

    return make


@pytest.fixture
def parcel(rating_year: RatingYear) -> Parcel:
    """NYANDARUA/OL KALOU/1234, held by Wanjiku Kamau and John Mwangi, valued at 1,000,000
    on the roll in force and billed its rates for the year (KES 1,000)."""
    owners = [OwnerFactory.create(name="Wanjiku Kamau"), OwnerFactory.create(name="John Mwangi")]
    parcel: Parcel = ParcelFactory.create(number="NYANDARUA/OL KALOU/1234", owners=owners)
    ValuationRollFactory.create(values={parcel: Decimal(1000000)})
    bill_rates(financial_year=FY, actor=None)
    return parcel


@pytest.fixture
def audit_actions() -> Callable[[], list[str]]:
    def actions(**filters: Any) -> list[str]:
        return list(AuditEvent.objects.filter(**filters).values_list("action", flat=True))

    return actions
