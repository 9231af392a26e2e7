"""A parcel's statement (arrears b/f, charges, penalties, payments, balance) and balance."""

from datetime import date
from decimal import Decimal

from kaunti.land.models import ChargeKind, Parcel, ParcelCharge
from kaunti.land.selectors.balances import parcel_balance, parcel_statement
from kaunti.land.services.billing import bill_rates
from kaunti.land.services.penalties import apply_monthly_penalties
from kaunti.land.services.rating import set_rating_rule, set_rating_year
from kaunti.payments.tests.factories import PaymentFactory

from .conftest import FY


def test_the_statement_shows_charges_penalties_payments_and_balance(parcel: Parcel) -> None:
    apply_monthly_penalties(month=date(2026, 10, 1), actor=None)
    rates = ParcelCharge.objects.get(parcel=parcel, kind=ChargeKind.RATES).bill
    PaymentFactory.create(
        bill=rates, amount=Decimal("400.00"), external_ref="STATEMENT-1", at_counter=True
    )

    statement = parcel_statement(parcel=parcel)

    assert len(statement.years) == 1
    year = statement.years[0]
    assert (
        year.label,
        year.arrears_brought_forward,
        year.charges,
        year.penalties,
        year.payments,
        year.balance,
    ) == (
        "2026/27",
        Decimal("0.00"),
        Decimal("1000.00"),
        Decimal("10.00"),
        Decimal("400.00"),
        Decimal("610.00"),
    )
    assert [(line.kind, line.amount, line.paid) for line in statement.lines] == [
        ("rates", Decimal("1000.00"), Decimal("400.00")),
        ("penalty", Decimal("10.00"), Decimal("0.00")),
    ]


def test_arrears_are_brought_forward_into_the_next_year(
    parcel: Parcel, rating_year: object
) -> None:
    next_year = set_rating_year(
        financial_year=FY + 1,
        due_on=date(2027, 9, 30),
        penalty_percent_per_month=Decimal(1),
        actor=None,
    )
    set_rating_rule(
        rating_year=next_year, rate_percent=Decimal("0.1"), minimum_charge=Decimal(500), actor=None
    )
    bill_rates(financial_year=FY + 1, actor=None)

    statement = parcel_statement(parcel=parcel)

    assert [
        (y.label, y.arrears_brought_forward, y.charges, y.balance) for y in statement.years
    ] == [
        ("2026/27", Decimal("0.00"), Decimal("1000.00"), Decimal("1000.00")),
        ("2027/28", Decimal("1000.00"), Decimal("1000.00"), Decimal("2000.00")),
    ]


def test_parcel_balance_for_ussd_reads_a_loosely_typed_number(parcel: Parcel) -> None:
    balance = parcel_balance(number="  nyandarua-ol kalou - 1234 ")

    assert balance is not None
    assert balance.parcel_number == "NYANDARUA/OL KALOU/1234"
    assert not hasattr(balance, "owner_name")  # USSD and SMS never learn who owns it
    assert balance.balance == Decimal("1000.00")
    assert balance.bill_number == ParcelCharge.objects.get(parcel=parcel).bill.number


def test_parcel_balance_names_the_oldest_open_bill_and_none_once_paid(parcel: Parcel) -> None:
    apply_monthly_penalties(month=date(2026, 10, 1), actor=None)
    rates = ParcelCharge.objects.get(parcel=parcel, kind=ChargeKind.RATES).bill
    penalty = ParcelCharge.objects.get(parcel=parcel, kind=ChargeKind.PENALTY).bill

    assert parcel_balance(number="NYANDARUA/OL KALOU/1234").bill_number == rates.number  # type: ignore[union-attr]
    PaymentFactory.create(
        bill=rates, amount=Decimal("1000.00"), external_ref="BAL-1", at_counter=True
    )
    after_rates = parcel_balance(number="NYANDARUA/OL KALOU/1234")
    PaymentFactory.create(
        bill=penalty, amount=Decimal("10.00"), external_ref="BAL-2", at_counter=True
    )
    settled = parcel_balance(number="NYANDARUA/OL KALOU/1234")

    assert after_rates is not None
    assert (after_rates.balance, after_rates.bill_number) == (
        Decimal("10.00"),
        penalty.number,
    )
    assert settled is not None
    assert (settled.balance, settled.bill_number) == (Decimal("0.00"), None)


def test_an_unknown_parcel_has_no_balance(parcel: Parcel) -> None:
    assert parcel_balance(number="NYANDARUA/OL KALOU/9999") is None
    assert parcel_balance(number="   ") is None


def test_parcel_balance_counts_the_credit_the_payer_holds(parcel: Parcel) -> None:
    apply_monthly_penalties(month=date(2026, 10, 1), actor=None)
    rates = ParcelCharge.objects.get(parcel=parcel, kind=ChargeKind.RATES).bill

    PaymentFactory.create(
        bill=rates, amount=Decimal("1004.00"), external_ref="OVERPAID-1", at_counter=True
    )  # 4.00 too much: held as credit

    balance = parcel_balance(number="NYANDARUA/OL KALOU/1234")
    assert balance is not None
    assert balance.balance == Decimal("6.00")  # the 10.00 penalty less the 4.00 credit
    penalty = ParcelCharge.objects.get(parcel=parcel, kind=ChargeKind.PENALTY).bill
    assert balance.bill_number == penalty.number
