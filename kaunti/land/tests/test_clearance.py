"""The `land.rates_clear` check behind the rates clearance certificate."""

from datetime import date
from decimal import Decimal

import pytest

from kaunti.core.service_checks import run_service_check
from kaunti.land.models import ChargeKind, Parcel, ParcelCharge
from kaunti.land.services.clearance import check_rates_clear
from kaunti.land.services.penalties import apply_monthly_penalties
from kaunti.payments.tests.factories import PaymentFactory


def test_clearance_is_refused_while_rates_are_owed(parcel: Parcel) -> None:
    result = run_service_check("land.rates_clear", {"parcel_number": "nyandarua/ol kalou/1234"})

    assert not result.ok
    assert "KES 1,000.00" in result.message
    assert result.facts == {}


def test_clearance_is_refused_while_a_penalty_is_owed(parcel: Parcel) -> None:
    apply_monthly_penalties(month=date(2026, 10, 1), actor=None)
    PaymentFactory.create(
        bill=ParcelCharge.objects.get(parcel=parcel, kind=ChargeKind.RATES).bill,
        amount=Decimal(1000),
        external_ref="CLR-1",
        at_counter=True,
    )

    result = check_rates_clear({"parcel_number": "NYANDARUA/OL KALOU/1234"})

    assert not result.ok
    assert "KES 10.00" in result.message


def test_clearance_is_given_once_everything_is_paid(parcel: Parcel) -> None:
    PaymentFactory.create(
        bill=ParcelCharge.objects.get(parcel=parcel, kind=ChargeKind.RATES).bill,
        amount=Decimal(1000),
        external_ref="CLR-2",
        at_counter=True,
    )

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
