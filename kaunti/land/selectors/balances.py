"""What a parcel owes: open rates bills, the balance, the year-by-year statement, and
the public balance check (a number and what it owes, never who owns it)."""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet, Sum
from django.utils import timezone

from kaunti.core.money import ZERO, financial_year, kes
from kaunti.land.models import (
    RATES_SOURCE_TYPE,
    ChargeKind,
    Parcel,
    ParcelCharge,
)
from kaunti.land.selectors.parcels import get_parcel, get_parcel_by_number
from kaunti.payments.models import Allocation, Bill, BillStatus
from kaunti.payments.services.bills import credit_balance

OPEN_STATUSES = (BillStatus.OPEN, BillStatus.PARTLY_PAID)


def _open_bills(parcel: Parcel) -> QuerySet[Bill]:
    return Bill.objects.filter(
        land_charge__parcel=parcel, source_type=RATES_SOURCE_TYPE, status__in=OPEN_STATUSES
    )


def parcel_amount_owed(*, parcel: Parcel) -> Decimal:
    """All that is owed on the parcel's open rates, penalty and arrears bills."""
    totals = _open_bills(parcel).aggregate(total=Sum("total"), paid=Sum("paid"))
    return kes((totals["total"] or ZERO) - (totals["paid"] or ZERO))


@dataclass(frozen=True)
class ParcelBalance:
    """What USSD and SMS tell a payer about a parcel. No owner: anyone may type a parcel
    number, and who holds land is personal data (Data Protection Act 2019)."""

    parcel_number: str
    balance: Decimal
    bill_number: str | None


def parcel_balance(*, number: str) -> ParcelBalance | None:
    """The balance of a parcel typed loosely (its open rates, penalty and arrears bills less
    any credit its payer holds), and the oldest open bill to pay; None if unknown."""
    parcel = get_parcel_by_number(number=number)
    if parcel is None:
        return None
    owed = parcel_amount_owed(parcel=parcel)
    oldest = (
        _open_bills(parcel).order_by("due_on", "id").values_list("number", "payer_key").first()
        if owed > 0
        else None
    )
    if oldest is not None:
        # Credit the payer holds from overpayments is used on their next bill: count it.
        owed = max(ZERO, kes(owed - credit_balance(payer_key=oldest[1])))
    return ParcelBalance(
        parcel_number=parcel.number,
        balance=owed,
        bill_number=oldest[0] if oldest is not None and owed > 0 else None,
    )


@dataclass
class StatementYear:
    """One financial year of a parcel's statement."""

    financial_year: int
    arrears_brought_forward: Decimal = ZERO
    charges: Decimal = ZERO
    penalties: Decimal = ZERO
    payments: Decimal = ZERO
    balance: Decimal = ZERO

    @property
    def label(self) -> str:
        return f"{self.financial_year}/{(self.financial_year + 1) % 100:02d}"


@dataclass
class StatementLine:
    """One bill on the statement."""

    bill_number: str
    kind: str
    financial_year: int
    description: str
    amount: Decimal
    paid: Decimal
    status: str
    due_on: object


@dataclass
class ParcelStatement:
    """A parcel's rates account: per financial year, arrears b/f, charges, penalties,
    payments and the balance carried; and the bills behind them."""

    parcel: Parcel
    years: list[StatementYear] = field(default_factory=list)
    lines: list[StatementLine] = field(default_factory=list)

    @property
    def balance(self) -> Decimal:
        return self.years[-1].balance if self.years else ZERO


def parcel_statement(*, parcel: Parcel) -> ParcelStatement:
    """Build a parcel's statement from its charges and the payments allocated to their bills.

    Two indexed queries (charges with bills; allocations by bill), whatever the roll's size.
    Arrears brought forward are charged as of the year they were imported; payments count in
    the financial year they were made. Cancelled bills are left out (they were reversed).
    """
    charges = list(
        ParcelCharge.objects.filter(parcel=parcel)
        .exclude(bill__status=BillStatus.CANCELLED)
        .select_related("bill")
        .order_by("period", "id")
    )
    statement = ParcelStatement(parcel=parcel)
    if not charges:
        return statement
    by_year: dict[int, dict[str, Decimal]] = defaultdict(
        lambda: {"charges": ZERO, "penalties": ZERO, "arrears": ZERO, "payments": ZERO}
    )
    for charge in charges:
        bucket = by_year[charge.financial_year]
        if charge.kind == ChargeKind.PENALTY:
            bucket["penalties"] += charge.amount
        elif charge.kind == ChargeKind.ARREARS:
            bucket["arrears"] += charge.amount
        else:
            bucket["charges"] += charge.amount
        statement.lines.append(
            StatementLine(
                bill_number=charge.bill.number,
                kind=charge.kind,
                financial_year=charge.financial_year,
                description=charge.bill.localized_description,
                amount=charge.amount,
                paid=charge.bill.paid,
                status=charge.bill.status,
                due_on=charge.bill.due_on,
            )
        )
    allocations = Allocation.objects.filter(bill_id__in=[c.bill_id for c in charges]).values_list(
        "amount", "created_at"
    )
    for amount, created_at in allocations:
        by_year[financial_year(timezone.localdate(created_at))]["payments"] += amount
    carried = ZERO
    for year in range(min(by_year), max(by_year) + 1):
        if year not in by_year:
            statement.years.append(StatementYear(year, carried, balance=carried))
            continue
        bucket = by_year[year]
        brought = kes(carried + bucket["arrears"])
        balance = kes(brought + bucket["charges"] + bucket["penalties"] - bucket["payments"])
        statement.years.append(
            StatementYear(
                financial_year=year,
                arrears_brought_forward=brought,
                charges=kes(bucket["charges"]),
                penalties=kes(bucket["penalties"]),
                payments=kes(bucket["payments"]),
                balance=balance,
            )
        )
        carried = balance
    return statement


@dataclass(frozen=True)
class PublicBalance:
    """What anyone may learn of a parcel: its number, what it owes and the bills to pay."""

    number: str
    balance: Decimal
    open_bills: list[Bill]


def get_public_balance(*, number: str) -> PublicBalance | None:
    parcel = get_parcel(number=number)
    if parcel is None:
        return None
    bills = list(
        Bill.objects.filter(
            land_charge__parcel=parcel, status__in=[BillStatus.OPEN, BillStatus.PARTLY_PAID]
        ).order_by("due_on", "created_at")
    )
    balance = sum((bill.total - bill.paid for bill in bills), ZERO)
    return PublicBalance(number=parcel.number, balance=balance, open_bills=bills)
