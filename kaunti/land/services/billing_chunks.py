"""One chunk of the annual rates billing: the parcels in a range of ids, in one transaction.

A chunk writes its bills, bill lines and parcel charges, ONE balanced journal entry
(receivables debited, land-rates revenue credited, per ward), one audit event and the
run's counts, and commits them together (see `billing` for how chunks make a run).

On PostgreSQL the chunk is one statement, computed by the database and raised through
payments' door for bills in bulk (`billing_sql`). Elsewhere (SQLite in development) the
same bills are priced here in Python and raised through payments' `raise_bills`;
`test_billing_sql` checks that both give the same rows. Either way only payments writes
the bills: land writes its parcel charges, the audit event and the run's counts.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils.translation import gettext as _

from kaunti.core.language import in_both_languages
from kaunti.core.models import Department
from kaunti.core.money import ZERO
from kaunti.core.services.audit import record_event
from kaunti.land.models import (
    RATES_SOURCE_TYPE,
    BillingRun,
    ChargeKind,
    Ownership,
    ParcelCharge,
    RatingRule,
    RatingYear,
    ValuationRoll,
)
from kaunti.land.services.rating import (
    choose_rule,
    compute_rates,
    financial_year_start,
    format_financial_year,
)
from kaunti.payments.models import RevenueStream
from kaunti.payments.services.bills import (
    Booking,
    BulkTerms,
    NewBill,
    Payer,
    raise_bills,
)

PARCEL_MARKER = "{parcel}"  # where a parcel's number goes in a translated text


def rates_source_ref(*, parcel_id: int, financial_year: int) -> str:
    """The bill's source reference for a parcel's rates in a year: `"<parcel id>:<year>"`."""
    return f"{parcel_id}:{financial_year}"


@dataclass(frozen=True)
class PayerOfParcel:
    name: str
    id_number: str
    kra_pin: str
    phone: str


def payers_for_parcels(
    parcel_ids: list[int] | None = None, *, id_range: tuple[int, int] | None = None
) -> dict[int, PayerOfParcel]:
    """The current owners of each parcel as one payer: names joined, the first owner's IDs.

    For the parcels named, or for all parcels with ids in `id_range` (first, last), which
    is one index range scan instead of a list of thousands of ids to send.
    """
    current = Ownership.objects.filter(ended_on__isnull=True)
    if id_range is not None:
        current = current.filter(parcel_id__gte=id_range[0], parcel_id__lte=id_range[1])
    else:
        current = current.filter(parcel_id__in=parcel_ids or [])
    holdings = current.order_by("parcel_id", "id").values_list(
        "parcel_id", "owner__name", "owner__national_id", "owner__kra_pin", "owner__phone"
    )
    grouped: dict[int, list[tuple[str, str, str, str]]] = defaultdict(list)
    for parcel_id, name, national_id, kra_pin, phone in holdings:
        grouped[parcel_id].append((name, national_id, kra_pin, phone))
    payers = {}
    for parcel_id, owners in grouped.items():
        names = " & ".join(owner[0] for owner in owners)
        if len(names) > 150:
            names = f"{owners[0][0][:140]} +{len(owners) - 1}"
        first = owners[0]
        payers[parcel_id] = PayerOfParcel(names, first[1], first[2], first[3])
    return payers


@dataclass(frozen=True)
class BillingContext:
    financial_year: int
    rating_year: RatingYear
    rules: list[RatingRule]
    roll: ValuationRoll
    department: Department
    stream: RevenueStream
    actor: Any | None


@dataclass(frozen=True)
class ChunkResult:
    """What a committed chunk did: parcels looked at (billed or skipped) and bills raised."""

    looked_at: int
    bills: int


_ELIGIBLE = (
    " FROM land_rollentry e JOIN land_parcel p ON p.id = e.parcel_id"
    " WHERE e.roll_id = %s AND e.parcel_id > %s AND p.id > %s AND p.is_rateable"
)


def chunk_end(*, roll: ValuationRoll, after_id: int, size: int) -> int | None:
    """The last parcel id of the chunk of `size` rateable parcels on the roll after
    `after_id`, or None when none is left. (The lower bound is on both sides of the join:
    the planner does not carry `>` across an equality, and without it each chunk would
    scan the parcels from the first one.)"""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.parcel_id {_ELIGIBLE} ORDER BY e.parcel_id LIMIT 1 OFFSET %s",
            [roll.pk, after_id, after_id, size - 1],
        )
        row = cursor.fetchone()
        if row is None:
            cursor.execute(
                f"SELECT max(e.parcel_id) {_ELIGIBLE}",
                [roll.pk, after_id, after_id],
            )
            row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None else None


def description_templates(ctx: BillingContext) -> tuple[str, str]:
    """The bills' description, in English and Kiswahili, with `{parcel}` left to fill."""
    return in_both_languages(
        lambda: (
            _("Land rates %(year)s, %(parcel)s")
            % {"year": format_financial_year(ctx.financial_year), "parcel": PARCEL_MARKER}
        )
    )


def no_owner_template() -> str:
    """The payer of a parcel with no current owner on record, `{parcel}` left to fill."""
    return _("Registered owner of %(number)s") % {"number": PARCEL_MARKER}


def bill_terms(ctx: BillingContext) -> BulkTerms:
    """What the year's rates bills share, as payments raises them."""
    return BulkTerms(
        department=ctx.department,
        stream=ctx.stream,
        due_on=ctx.rating_year.due_on,
        source_type=RATES_SOURCE_TYPE,
        actor=ctx.actor,
    )


def chunk_booking(
    ctx: BillingContext, run: BillingRun, *, bills: int, first_id: int, last_id: int
) -> Booking:
    """The journal entry of a chunk's bills: one a chunk, named by its parcels."""
    return Booking(
        memo=f"Land rates {format_financial_year(ctx.financial_year)}: {bills} bills, "
        f"parcels {first_id}-{last_id}",
        source_type="land.rates_run",
        source_ref=f"{run.public_id}:{first_id}-{last_id}",
    )


def record_chunk(
    ctx: BillingContext,
    run: BillingRun,
    *,
    bills: int,
    amount: Decimal,
    first_id: int,
    last_id: int,
) -> None:
    # The event is inserted unsealed, with no lock; the sequencer seals it after the commit.
    record_event(
        actor=ctx.actor,
        action="land.rates_billed",
        target=run,
        data={
            "year": ctx.financial_year,
            "bills": bills,
            "amount": amount,
            "parcels": [first_id, last_id],
        },
    )


def count_chunk(
    run: BillingRun, *, bills: int, amount: Decimal, watermark: Callable[[], int]
) -> None:
    """Add the chunk to the run's counts; move its resume point up to `watermark()` (every
    parcel up to it is billed, or is in this chunk), asked last: it only grows."""
    BillingRun.objects.filter(pk=run.pk).update(
        last_parcel_id=Greatest(F("last_parcel_id"), Value(watermark())),
        bills_created=F("bills_created") + bills,
        amount_billed=F("amount_billed") + amount,
    )


# --- Priced in Python, raised through `raise_bills` (PostgreSQL's statement: `billing_sql`) --


@dataclass(frozen=True)
class _PricedParcel:
    parcel_id: int
    parcel_number: str
    ward_id: int
    site_value: Decimal
    amount: Decimal
    payer: PayerOfParcel


def price_chunk(
    ctx: BillingContext, *, after_id: int, last_id: int
) -> tuple[list[_PricedParcel], int]:
    """The parcels with ids in (after_id, last_id] still to bill, priced, and how many
    parcels were looked at (some are skipped: already billed, no rule, nothing to pay)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT e.parcel_id, e.site_value, p.number, p.ward_id, p.land_use, p.zone"
            f" {_ELIGIBLE} AND e.parcel_id <= %s AND p.id <= %s ORDER BY e.parcel_id",
            [ctx.roll.pk, after_id, after_id, last_id, last_id],
        )
        rows = [
            (pid, Decimal(value), number, ward_id, land_use, zone)
            for pid, value, number, ward_id, land_use, zone in cursor.fetchall()
        ]
    if not rows:
        return [], 0
    billed = set(
        ParcelCharge.objects.filter(
            parcel_id__gt=after_id,
            parcel_id__lte=last_id,
            kind=ChargeKind.RATES,
            period=financial_year_start(ctx.financial_year),
        ).values_list("parcel_id", flat=True)
    )
    payers = payers_for_parcels(id_range=(rows[0][0], rows[-1][0]))
    new: list[_PricedParcel] = []
    rule_cache: dict[tuple[str, str], RatingRule | None] = {}
    for parcel_id, site_value, number, ward_id, land_use, zone in rows:
        if parcel_id in billed:
            continue
        key = (land_use, zone)
        if key not in rule_cache:
            rule_cache[key] = choose_rule(ctx.rules, land_use=land_use, zone=zone)
        rule = rule_cache[key]
        amount = (
            compute_rates(
                site_value=site_value,
                rate_percent=rule.rate_percent,
                minimum_charge=rule.minimum_charge,
            )
            if rule is not None
            else ZERO
        )
        if amount <= 0:
            continue
        payer = payers.get(parcel_id) or PayerOfParcel(
            no_owner_template().replace(PARCEL_MARKER, number), "", "", ""
        )
        new.append(_PricedParcel(parcel_id, number, ward_id, site_value, amount, payer))
    return new, len(rows)


def _raise_orm(
    ctx: BillingContext, run: BillingRun, new: list[_PricedParcel], *, last_id: int
) -> None:
    """Raise the priced parcels' bills through payments and write their charges."""
    template, template_sw = description_templates(ctx)
    bills = raise_bills(
        [
            NewBill(
                payer=Payer(
                    item.payer.name, item.payer.phone, item.payer.id_number, item.payer.kra_pin
                ),
                amount=item.amount,
                ward_id=item.ward_id,
                description=template.replace(PARCEL_MARKER, item.parcel_number),
                description_sw=template_sw.replace(PARCEL_MARKER, item.parcel_number),
                source_ref=rates_source_ref(
                    parcel_id=item.parcel_id, financial_year=ctx.financial_year
                ),
            )
            for item in new
        ],
        terms=bill_terms(ctx),
        booking=chunk_booking(ctx, run, bills=len(new), first_id=new[0].parcel_id, last_id=last_id),
    )
    ParcelCharge.objects.bulk_create(
        [
            ParcelCharge(
                parcel_id=item.parcel_id,
                kind=ChargeKind.RATES,
                financial_year=ctx.financial_year,
                period=financial_year_start(ctx.financial_year),
                bill=bill,
                amount=item.amount,
                site_value=item.site_value,
                run=run,
            )
            for bill, item in zip(bills, new, strict=True)
        ],
        batch_size=500,
    )


def bill_chunk_orm(
    ctx: BillingContext,
    run: BillingRun,
    *,
    after_id: int,
    last_id: int,
    watermark: Callable[[], int],
) -> ChunkResult:
    """Bill the parcels with ids in (after_id, last_id] in the caller's transaction."""
    new, looked_at = price_chunk(ctx, after_id=after_id, last_id=last_id)
    amount = sum((item.amount for item in new), ZERO)
    if new:
        _raise_orm(ctx, run, new, last_id=last_id)
        record_chunk(
            ctx, run, bills=len(new), amount=amount, first_id=new[0].parcel_id, last_id=last_id
        )
    count_chunk(run, bills=len(new), amount=amount, watermark=watermark)
    return ChunkResult(looked_at, len(new))
