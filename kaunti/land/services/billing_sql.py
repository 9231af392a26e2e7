"""A chunk of the annual rates billing on PostgreSQL: one statement (`billing_chunks` has
what both ways of billing a chunk share, and the other way).

The rate, the payer and the description are computed by the database from the roll, the
parcels and the owners: `rates_case_sql` is `choose_rule` and `compute_rates` in SQL (a
property test holds them equal). That query is land's part of payments' statement for
raising bills in bulk (`payments.services.bills.raise_bills_by_query`), which numbers,
inserts and books the bills; land's part also writes the parcel charges of the bills just
raised, and returns the parcels looked at and the first one billed.

Where the database role may, the statement runs without PostgreSQL's row-by-row
foreign-key checks (ADR 9, and payments' `query` module): payments then locks what the
bills refer to, and land's part locks what its charges refer to: each parcel as it is read
(`row_lock`) and the run (`holds`). A change to this SQL that introduces a new reference
must lock it too. Unique and check constraints are enforced as always.
"""

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from kaunti.core.money import kes
from kaunti.land.models import BillingRun, ChargeKind, ParcelCharge, RatingRule
from kaunti.land.services.billing_chunks import (
    PARCEL_MARKER,
    BillingContext,
    ChunkResult,
    bill_terms,
    chunk_booking,
    count_chunk,
    description_templates,
    no_owner_template,
    rates_source_ref,
    record_chunk,
)
from kaunti.land.services.rating import financial_year_start
from kaunti.payments.services.bills import (
    BillQuery,
    Booking,
    QueryPlan,
    QueryRaised,
    plan_bill_query,
    raise_bills_by_query,
)


def rates_case_sql(
    rules: Iterable[RatingRule], *, site_value: str, land_use: str, zone: str
) -> tuple[str, dict[str, Any]]:
    """A SQL expression worth `compute_rates` under the rule `choose_rule` picks (NULL when
    no rule applies), for the columns named, and its parameters.

    The most specific rule comes first (land use and zone, land use, zone, general), as in
    `choose_rule`. The rate is `round(value * rate * 0.01, 2)`: PostgreSQL's numeric
    product is exact and `round` goes half away from zero, which is half-up here (nothing
    is negative), as `kes` rounds."""
    ordered = sorted(rules, key=lambda rule: (rule.land_use == "", rule.zone == ""))
    branches = []
    params: dict[str, Any] = {}
    for index, rule in enumerate(ordered):
        conditions = ["TRUE"]
        if rule.land_use:
            conditions.append(f"{land_use} = %(use_{index})s")
            params[f"use_{index}"] = rule.land_use
        if rule.zone:
            conditions.append(f"{zone} = %(zone_{index})s")
            params[f"zone_{index}"] = rule.zone
        params[f"rate_{index}"] = Decimal(rule.rate_percent)
        params[f"minimum_{index}"] = kes(rule.minimum_charge)
        branches.append(
            f"WHEN {' AND '.join(conditions)} THEN GREATEST(round({site_value}"
            f" * %(rate_{index})s::numeric * 0.01, 2), %(minimum_{index})s::numeric)"
        )
    if not branches:
        return "NULL::numeric", params
    return f"CASE {' '.join(branches)} END", params


# The chunk's part of payments' statement: `entry` is the chunk's rateable parcels on the
# roll, priced; `fresh` those with something to pay and no charge yet; the rows give each
# its payer (the current owners: names joined, the first owner's identifiers, as
# `payers_for_parcels`) and description; `then` writes the charges of the bills raised.
_CHUNK_CTES = """
entry AS MATERIALIZED (
    SELECT e.parcel_id, e.site_value, p.number, p.ward_id, {rates} AS amount
    FROM land_rollentry e JOIN land_parcel p ON p.id = e.parcel_id
    WHERE e.roll_id = %(roll)s AND e.parcel_id > %(after)s AND e.parcel_id <= %(last)s
      AND p.id > %(after)s AND p.id <= %(last)s AND p.is_rateable
    {row_lock}
),
fresh AS MATERIALIZED (
    SELECT entry.* FROM entry
    WHERE entry.amount > 0 AND NOT EXISTS (
        SELECT 1 FROM land_parcelcharge c
        WHERE c.parcel_id = entry.parcel_id AND c.kind = %(kind)s AND c.period = %(period)s
            AND c.parcel_id > %(after)s AND c.parcel_id <= %(last)s
    )
)"""

_CHUNK_ROWS = """
    SELECT f.parcel_id, f.site_value, f.ward_id, f.amount,
        CASE WHEN h.name IS NULL THEN replace(%(no_owner)s, %(marker)s, f.number)
            WHEN length(h.names) > 150 THEN left(h.name, 140) || ' +' || (h.owners - 1)
            ELSE h.names END AS payer_name,
        coalesce(h.phone, '') AS payer_phone, coalesce(h.national_id, '') AS payer_id_number,
        coalesce(h.kra_pin, '') AS payer_kra_pin,
        replace(%(description)s, %(marker)s, f.number) AS description,
        replace(%(description_sw)s, %(marker)s, f.number) AS description_sw,
        f.parcel_id || %(source_suffix)s AS source_ref
    FROM fresh f
    -- Each parcel's current holders by index, first by key: a lookup per parcel that no
    -- row estimate can turn into a join of every parcel with every holding.
    LEFT JOIN LATERAL (
        SELECT w.name, w.national_id, w.kra_pin, w.phone,
            count(*) OVER whole AS owners, string_agg(w.name, ' & ') OVER whole AS names
        FROM land_ownership o JOIN land_owner w ON w.id = o.owner_id
        WHERE o.parcel_id = f.parcel_id AND o.ended_on IS NULL
        WINDOW whole AS (ORDER BY o.id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
        ORDER BY o.id
        LIMIT 1
    ) h ON TRUE"""

_CHUNK_CHARGES = """INSERT INTO land_parcelcharge (parcel_id, kind, financial_year, period, bill_id,
        amount, site_value, run_id, created_at)
    SELECT parcel_id, %(kind)s, %(year)s, %(period)s, bill_id, amount, site_value, %(run)s,
        %(now)s
    FROM raised"""

# What the chunk's statement returns besides the bills: parcels looked at, the first billed.
_CHUNK_TALLY = ("(SELECT count(*) FROM entry)", "(SELECT min(parcel_id) FROM raised)")


def postgres_plan(ctx: BillingContext, run: BillingRun) -> QueryPlan:
    """The chunks' statement, made ready by payments once for the whole run."""
    rates, params = rates_case_sql(
        ctx.rules, site_value="e.site_value", land_use="p.land_use", zone="p.zone"
    )
    description, description_sw = description_templates(ctx)
    params.update(
        roll=ctx.roll.pk,
        kind=ChargeKind.RATES.value,
        period=financial_year_start(ctx.financial_year),
        year=ctx.financial_year,
        no_owner=no_owner_template(),
        marker=PARCEL_MARKER,
        description=description,
        description_sw=description_sw,
        source_suffix=rates_source_ref(parcel_id=0, financial_year=ctx.financial_year)[1:],
        run=run.pk,
    )
    query = BillQuery(
        ctes=_CHUNK_CTES.replace("{rates}", rates),
        rows=_CHUNK_ROWS,
        row_lock="FOR KEY SHARE OF p",
        then=_CHUNK_CHARGES,
        writes=(ParcelCharge,),
        holds=(run,),
        tally=_CHUNK_TALLY,
        params=params,
    )
    return plan_bill_query(query, terms=bill_terms(ctx))


def bill_chunk_postgresql(
    ctx: BillingContext,
    run: BillingRun,
    plan: QueryPlan,
    *,
    after_id: int,
    last_id: int,
    at_most: int,
    watermark: Callable[[], int],
) -> ChunkResult:
    """Bill the parcels with ids in (after_id, last_id], at most `at_most` of them (more
    only if the roll changed since the chunk was drawn), in the caller's transaction."""
    with connection.cursor() as cursor:
        # A chunk lost to a crash in the moment after its commit is lost with its counts,
        # and billed again by the resumed run: no need to wait for the disk at each commit.
        cursor.execute("SET LOCAL synchronous_commit TO OFF")

    def booking(raised: QueryRaised) -> Booking:
        return chunk_booking(
            ctx, run, bills=raised.bills, first_id=raised.tally[1], last_id=last_id
        )

    raised = raise_bills_by_query(
        plan,
        params={"after": after_id, "last": last_id, "now": timezone.now()},
        at_most=at_most,
        booking=booking,
    )
    looked_at, first_id = raised.tally
    if raised.bills:
        record_chunk(
            ctx, run, bills=raised.bills, amount=raised.amount, first_id=first_id, last_id=last_id
        )
    count_chunk(run, bills=raised.bills, amount=raised.amount, watermark=watermark)
    return ChunkResult(looked_at, raised.bills)
