"""Reads of land: parcels by number, owners, balances, statements and rates status."""

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from kaunti.core.money import ZERO, financial_year, kes
from kaunti.land.models import (
    RATES_SOURCE_TYPE,
    BillingRun,
    ChargeKind,
    Ownership,
    Parcel,
    ParcelCharge,
    RollEntry,
    RollImport,
    RollStatus,
    ValuationRoll,
    parcel_number_key,
)
from kaunti.payments.models import Allocation, Bill, BillStatus
from kaunti.payments.services.bills import credit_balance

OPEN_STATUSES = (BillStatus.OPEN, BillStatus.PARTLY_PAID)


def get_parcel_by_number(*, number: str) -> Parcel | None:
    """The parcel with this number, typed loosely (case, spaces, `-` or `/`)."""
    key = parcel_number_key(number)
    if not key:
        return None
    return Parcel.objects.select_related("ward").filter(number_key=key).first()


def search_parcels(*, query: str = "", ward_code: str = "") -> QuerySet[Parcel]:
    """Parcels whose number starts with or contains `query`, or whose current owner's name,
    national ID or KRA PIN matches; optionally in one ward."""
    parcels = Parcel.objects.select_related("ward")
    if ward_code:
        parcels = parcels.filter(ward__code=ward_code)
    query = " ".join((query or "").split())
    if query:
        key = parcel_number_key(query)
        owners = Ownership.objects.filter(ended_on__isnull=True).filter(
            Q(owner__name__icontains=query)
            | Q(owner__national_id=query)
            | Q(owner__kra_pin=query.upper())
        )
        parcels = parcels.filter(
            Q(number_key__startswith=key)
            | Q(number_key__contains=key)
            | Q(pk__in=owners.values("parcel_id"))
        )
    return parcels.order_by("number_key")


def current_ownerships(*, parcel: Parcel) -> list[Ownership]:
    """Who holds the parcel now, with their shares."""
    return list(
        Ownership.objects.filter(parcel=parcel, ended_on__isnull=True)
        .select_related("owner")
        .order_by("id")
    )


def ownership_history(*, parcel: Parcel) -> list[Ownership]:
    """Every holding the parcel has had, newest first, with the transfers that began and
    ended them."""
    return list(
        Ownership.objects.filter(parcel=parcel)
        .select_related("owner", "started_by", "ended_by")
        .order_by("-started_on", "id")
    )


def owner_names(ownerships: Iterable[Ownership], *, limit: int = 60) -> str:
    """`"Wanjiku Kamau & John Mwangi"`, shortened with `+2` beyond `limit` characters."""
    names = [holding.owner.name for holding in ownerships]
    if not names:
        return ""
    text = names[0]
    for index, name in enumerate(names[1:], start=1):
        candidate = f"{text} & {name}"
        if len(candidate) > limit:
            return f"{text} +{len(names) - index}"
        text = candidate
    return text


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


_KEYPAD_SEPARATORS = re.compile(r"[*#]")
_DIGIT_GROUPS = re.compile(r"[0-9]+")  # ASCII digits only: a keypad types no others


def find_parcels_typed_on_keypad(*, typed: str, limit: int = 20) -> list[str]:
    """The numbers of the parcels a phone's keypad input may mean, best first (at most
    `limit`).

    A parcel number is county/registration section/number (`NYANDARUA/OL KALOU
    TOWNSHIP/287`), but a keypad has no `/` and letters are slow to type. So `*` and `#`
    stand for `/`; a section typed without its `/` before the number is read with one
    (`OL KALOU TOWNSHIP 287`); and digits alone (`287`, or `2 123` for block 2, parcel
    123) match every parcel whose number ends with those digits, for the caller to choose
    from. Parcel numbers and balances are public; owners are not, and are not read."""
    text = " ".join(_KEYPAD_SEPARATORS.sub("/", typed or "").split())
    if not text or not text.isascii():
        return []
    if any(ch.isalpha() for ch in text):
        keys = [parcel_number_key(text)]
        section, _, last = text.rpartition(" ")
        if "/" not in text and section and last.isdigit():
            keys.append(parcel_number_key(f"{section}/{last}"))
        query = Q()
        for key in keys:
            query |= Q(number_key=key) | Q(number_key__endswith="/" + key)
        return list(
            Parcel.objects.filter(query)
            .order_by("number_key")
            .values_list("number", flat=True)[:limit]
        )
    if not all(ch.isdigit() or ch in " /-" for ch in text):
        return []
    typed_groups = _DIGIT_GROUPS.findall(text)
    if not typed_groups:
        return []
    candidates = Parcel.objects.filter(number_key__endswith="/" + typed_groups[-1]).order_by(
        "number_key"
    )
    found = []
    # Only the last group narrows the query; the rest (block numbers) must end the
    # parcel's own digit groups, so `2 123` is `.../BLOCK 2/123`, not `.../12/123`.
    for number, key in candidates.values_list("number", "number_key")[: limit * 5]:
        groups = _DIGIT_GROUPS.findall(key)
        if groups[-len(typed_groups) :] == typed_groups and key.rsplit("/", 1)[-1].isdigit():
            found.append(number)
    return found[:limit]


def parcel_number_example() -> str:
    """A real parcel number of this register, to show the format in hints; a made-up one
    in the same form when the register is empty."""
    number = Parcel.objects.order_by("id").values_list("number", flat=True).first()
    return number or "NYANDARUA/OL KALOU TOWNSHIP/287"


def list_parcels_of_phone(*, phone: str, limit: int = 20) -> list[str]:
    """Numbers of the parcels the holder of `phone` (a verified caller's number) holds now
    or is billed for: current owners with that phone, and payers of rates bills sent to
    it. Never matched on a typed ID number, which anyone could type."""
    if not phone:
        return []
    owned = Ownership.objects.filter(ended_on__isnull=True, owner__phone=phone).values("parcel_id")
    billed = ParcelCharge.objects.filter(bill__payer_phone=phone).values("parcel_id")
    return list(
        Parcel.objects.filter(Q(pk__in=owned) | Q(pk__in=billed))
        .order_by("number_key")
        .values_list("number", flat=True)[:limit]
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


class RatesStatus:
    PAID = "paid"
    ARREARS = "arrears"
    NOT_ON_ROLL = "not_on_roll"


def get_roll_in_force() -> ValuationRoll | None:
    """The approved roll that billing reads, if any."""
    return ValuationRoll.objects.filter(status=RollStatus.PUBLISHED).first()


def rates_status_for_parcels(*, parcel_ids: Iterable[int]) -> dict[int, str]:
    """For the map: `paid` (nothing owed), `arrears` (something owed), or `not_on_roll`
    (no entry on the roll in force and nothing owed) for each parcel id."""
    ids = list(parcel_ids)
    roll = get_roll_in_force()
    on_roll: set[int] = set()
    if roll is not None:
        on_roll = set(
            RollEntry.objects.filter(roll=roll, parcel_id__in=ids).values_list(
                "parcel_id", flat=True
            )
        )
    owing = set(
        ParcelCharge.objects.filter(parcel_id__in=ids, bill__status__in=OPEN_STATUSES)
        .values_list("parcel_id", flat=True)
        .distinct()
    )
    status = {}
    for parcel_id in ids:
        if parcel_id in owing:
            status[parcel_id] = RatesStatus.ARREARS
        elif parcel_id in on_roll:
            status[parcel_id] = RatesStatus.PAID
        else:
            status[parcel_id] = RatesStatus.NOT_ON_ROLL
    return status


def list_roll_entries(*, roll: ValuationRoll, query: str = "") -> QuerySet[RollEntry]:
    """A roll's entries, with parcel and ward, optionally for parcels matching `query`."""
    entries = RollEntry.objects.filter(roll=roll).select_related("parcel", "parcel__ward")
    if query:
        entries = entries.filter(parcel__number_key__contains=parcel_number_key(query))
    return entries.order_by("parcel__number_key")


def list_roll_imports(*, roll: ValuationRoll) -> QuerySet[RollImport]:
    """A roll's import reports, newest first."""
    return RollImport.objects.filter(roll=roll).order_by("-imported_at")


def list_billing_runs(*, financial_year: int | None = None) -> QuerySet[BillingRun]:
    """Billing runs, newest first, with their jobs (for progress)."""
    runs = BillingRun.objects.select_related("job", "roll")
    if financial_year is not None:
        runs = runs.filter(financial_year=financial_year)
    return runs.order_by("-started_at")
