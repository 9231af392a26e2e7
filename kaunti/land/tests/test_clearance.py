"""The `land.rates_clear` check behind the rates clearance certificate."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from kaunti.core.service_checks import run_service_check
from kaunti.land.models import ChargeKind, Owner, Parcel, ParcelCharge
from kaunti.land.services.billing import bill_rates
from kaunti.land.services.clearance import check_rates_clear
from kaunti.land.services.penalties import apply_monthly_penalties

from .conftest import FY, pay


@pytest.fixture
def parcel(
    make_parcel: Callable[..., Parcel],
    make_owner: Callable[..., Owner],
    roll_with: Callable[..., object],
) -> Parcel:
    owners = [make_owner(name="Wanjiku Kamau"), make_owner(name="John Mwangi")]
    parcel = make_parcel("NYANDARUA/OL KALOU/1234", owners=owners)
    roll_with({parcel: Decimal(1000000)})
    bill_rates(financial_year=FY, actor=None)
    return parcel


def test_clearance_is_refused_while_rates_are_owed(parcel: Parcel) -> None:
    result = run_service_check("land.rates_clear", {"parcel_number": "nyandarua/ol kalou/1234"})

    assert not result.ok
    assert "KES 1,000.00" in result.message
    assert result.facts == {}


def test_clearance_is_refused_while_a_penalty_is_owed(parcel: Parcel) -> None:
    apply_monthly_penalties(month=date(2026, 10, 1), actor=None)
    pay(ParcelCharge.objects.get(parcel=parcel, kind=ChargeKind.RATES).bill, Decimal(1000), "CLR-1")

    result = check_rates_clear({"parcel_number": "NYANDARUA/OL KALOU/1234"})

    assert not result.ok
    assert "KES 10.00" in result.message


def test_clearance_is_given_once_everything_is_paid(parcel: Parcel) -> None:
    pay(ParcelCharge.objects.get(parcel=parcel, kind=ChargeKind.RATES).bill, Decimal(1000), "CLR-2")

    result = check_rates_clear({"parcel_number": "NYANDARUA-OL KALOU-1234"})

    assert result.ok
    assert result.facts == {
        "parcel_number": "NYANDARUA/OL KALOU/1234",
        "owners": "Wanjiku Kamau & John Mwangi",
        "ward": parcel.ward.name,
    }


@pytest.mark.parametrize(
    "answers", [{"parcel_number": "NYANDARUA/OL KALOU/9"}, {"parcel_number": ""}, {}]
)
def test_clearance_is_refused_for_an_unknown_parcel(
    parcel: Parcel, answers: dict[str, str]
) -> None:
    result = check_rates_clear(answers)

    assert not result.ok
    assert "no parcel" in result.message
