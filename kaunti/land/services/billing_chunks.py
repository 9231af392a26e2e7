"""One chunk of the annual rates billing: the parcels in a range of ids, in one transaction.

A chunk writes its bills, bill lines and parcel charges, ONE balanced journal entry
(receivables debited, land-rates revenue credited, per ward), one audit event and the
run's counts, and commits them together (see `billing` for how chunks make a run).

On PostgreSQL the chunk is one `INSERT ... SELECT` into the three tables: the rate, the
payer and the description are computed by the database from the roll, the parcels and
the owners (nothing goes through Python but the bill numbers, drawn in one go and passed
as an array). Elsewhere (SQLite in development) the same rows are priced in Python and
written through the ORM; `test_billing_sql` checks that both give the same rows.

Where the database role may set `session_replication_role` (a superuser, or a role given
`GRANT SET ON PARAMETER session_replication_role`), that statement runs as a bulk load
does (ADR 9): PostgreSQL's per-row foreign-key checks, half of a chunk's work, are off for
it, and the chunk holds what they would have held instead, once: a key-share lock on the
department, the stream, the run, the user and every ward, and on each parcel as it is
read. The other references are to the bills the same statement inserts. Unique and check
constraints are enforced as always. Without the privilege the checks run row by row.
"""

import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from kaunti.core.audit import record_event
from kaunti.core.language import in_both_languages
from kaunti.core.models import Department, Ward
from kaunti.core.money import ZERO, kes
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
from kaunti.land.services import acting_user
from kaunti.land.services.rating import (
    choose_rule,
    compute_rates,
    financial_year_start,
    format_financial_year,
)
from kaunti.ledger import services as ledger
from kaunti.payments.models import Bill, BillLine, RevenueStream
from kaunti.payments.numbering import BILL_ALPHABET, BILL_BODY_LENGTH, check_character
from kaunti.payments.services.bills import RECEIVABLES, Payer, payer_key_for

_MARKER = "{parcel}"  # where a parcel's number goes in a translated text


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


def bill_numbers(count: int) -> list[str]:
    """`count` bill numbers drawn as payments draws them (8 random characters of its
    alphabet and its check character), from one call to the system's random source
    instead of eight per number: a million numbers take a second, not a minute.
    Uniqueness is the database's to enforce, as in `create_bill`."""
    numbers: list[str] = []
    alphabet_size = len(BILL_ALPHABET)
    limit = 256 - 256 % alphabet_size  # bytes at or above it would favour some symbols
    while len(numbers) < count:
        wanted = (count - len(numbers)) * BILL_BODY_LENGTH
        symbols = [
            BILL_ALPHABET[byte % alphabet_size]
            for byte in secrets.token_bytes(wanted + wanted // 8 + 16)
            if byte < limit
        ]
        for start in range(0, len(symbols) - BILL_BODY_LENGTH + 1, BILL_BODY_LENGTH):
            if len(numbers) == count:
                break
            body = "".join(symbols[start : start + BILL_BODY_LENGTH])
            numbers.append(body + check_character(body))
    return numbers


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


def _description_template(ctx: BillingContext) -> tuple[str, str]:
    """The bills' description, in English and Kiswahili, with `{parcel}` left to fill."""
    return in_both_languages(
        lambda: (
            _("Land rates %(year)s, %(parcel)s")
            % {"year": format_financial_year(ctx.financial_year), "parcel": _MARKER}
        )
    )


def _no_owner_template() -> str:
    """The payer of a parcel with no current owner on record, `{parcel}` left to fill."""
    return _("Registered owner of %(number)s") % {"number": _MARKER}


def billed_by_ward(by_ward: dict[int, Decimal], *, revenue_account: str) -> list[ledger.Line]:
    """The lines of an entry for bills raised in bulk: receivables debited and the revenue
    account credited, ward by ward (ward id -> amount billed there)."""
    lines = []
    for ward_id, amount in sorted(by_ward.items()):
        lines.append(ledger.Line(RECEIVABLES, debit=amount, ward_id=ward_id))
        lines.append(ledger.Line(revenue_account, credit=amount, ward_id=ward_id))
    return lines


def _post_chunk(
    ctx: BillingContext,
    run: BillingRun,
    *,
    by_ward: dict[int, Decimal],
    bills: int,
    first_id: int,
    last_id: int,
) -> None:
    ledger.post_entry(
        lines=billed_by_ward(by_ward, revenue_account=ctx.stream.account.code),
        memo=f"Land rates {format_financial_year(ctx.financial_year)}: {bills} bills, "
        f"parcels {first_id}-{last_id}",
        source_type="land.rates_run",
        source_ref=f"{run.public_id}:{first_id}-{last_id}",
        actor=ctx.actor,
    )
    # Last before the commit: the audit chain is appended under a lock held to the commit.
    record_event(
        actor=ctx.actor,
        action="land.rates_billed",
        target=run,
        data={
            "year": ctx.financial_year,
            "bills": bills,
            "amount": sum(by_ward.values(), ZERO),
            "parcels": [first_id, last_id],
        },
    )


def _count_chunk(
    run: BillingRun, *, bills: int, amount: Decimal, watermark: Callable[[], int]
) -> None:
    """Add the chunk to the run's counts; move its resume point up to `watermark()` (every
    parcel up to it is billed, or is in this chunk), asked last: it only grows."""
    BillingRun.objects.filter(pk=run.pk).update(
        last_parcel_id=Greatest(F("last_parcel_id"), Value(watermark())),
        bills_created=F("bills_created") + bills,
        amount_billed=F("amount_billed") + amount,
    )


# --- PostgreSQL: one statement -------------------------------------------------------------


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


# The chunk in one statement: `entry` is the chunk's rateable parcels on the roll, priced;
# `fresh` those with something to pay and no charge yet; `src` gives each its bill id (from
# the bill table's sequence), a bill number from the array, and its payer (the current
# owners: names joined, the first owner's identifiers, as `payers_for_parcels`). The three
# inserts read `src`; the result is the chunk's totals per ward, for its journal entry.
_CHUNK_SQL = """
WITH entry AS MATERIALIZED (
    SELECT e.parcel_id, e.site_value, p.number, p.ward_id, {rates} AS amount
    FROM land_rollentry e JOIN land_parcel p ON p.id = e.parcel_id
    WHERE e.roll_id = %(roll)s AND e.parcel_id > %(after)s AND e.parcel_id <= %(last)s
      AND p.id > %(after)s AND p.id <= %(last)s AND p.is_rateable
    {lock_parcels}
),
fresh AS MATERIALIZED (
    SELECT entry.*, row_number() OVER (ORDER BY entry.parcel_id) AS position
    FROM entry
    WHERE entry.amount > 0 AND NOT EXISTS (
        SELECT 1 FROM land_parcelcharge c
        WHERE c.parcel_id = entry.parcel_id AND c.kind = %(kind)s AND c.period = %(period)s
            AND c.parcel_id > %(after)s AND c.parcel_id <= %(last)s
    )
),
src AS MATERIALIZED (
    SELECT f.parcel_id, f.site_value, f.number, f.ward_id, f.amount,
        nextval(%(bill_sequence)s::regclass) AS bill_id, drawn.bill_number,
        CASE WHEN h.name IS NULL THEN replace(%(no_owner)s, %(marker)s, f.number)
            WHEN length(h.names) > 150 THEN left(h.name, 140) || ' +' || (h.owners - 1)
            ELSE h.names END AS payer_name,
        coalesce(h.national_id, '') AS id_number, coalesce(h.kra_pin, '') AS kra_pin,
        coalesce(h.phone, '') AS phone
    FROM fresh f
    -- A hash join (the array's length is known: every chunk is planned for itself); a
    -- subscript instead would walk the array of variable-length text from its start.
    JOIN unnest(%(numbers)s::text[]) WITH ORDINALITY AS drawn(bill_number, position)
        ON drawn.position = f.position
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
    ) h ON TRUE
),
bills AS (
    INSERT INTO payments_bill (id, number, payer_name, payer_phone, payer_id_number,
        payer_kra_pin, payer_key, payer_user_id, department_id, ward_id, description, description_sw, due_on,
        status, total, paid, source_type, source_ref, created_by_id, created_at)
    SELECT bill_id, bill_number, payer_name, phone, id_number, kra_pin,
        CASE WHEN id_number <> '' THEN 'id:' || id_number
            WHEN kra_pin <> '' THEN 'pin:' || kra_pin
            WHEN phone <> '' THEN 'phone:' || phone
            ELSE 'name:' || left(lower(btrim(payer_name)), 34) END,
        NULL, %(department)s, ward_id, left(replace(%(description)s, %(marker)s, number), 200),
        left(replace(%(description_sw)s, %(marker)s, number), 200),
        %(due_on)s, %(status)s, amount, 0, %(source_type)s,
        parcel_id || %(source_suffix)s, %(user)s, %(now)s
    FROM src
),
lines AS (
    INSERT INTO payments_billline (bill_id, stream_id, description, description_sw, quantity,
        unit_price, amount)
    SELECT bill_id, %(stream)s, %(line_description)s, %(line_description_sw)s, 1, amount, amount
    FROM src
),
charges AS (
    INSERT INTO land_parcelcharge (parcel_id, kind, financial_year, period, bill_id, amount,
        site_value, run_id, created_at)
    SELECT parcel_id, %(kind)s, %(year)s, %(period)s, bill_id, amount, site_value, %(run)s,
        %(now)s
    FROM src
)
SELECT (SELECT count(*) FROM entry), (SELECT count(*) FROM fresh),
    coalesce(array_agg(ward.ward_id ORDER BY ward.ward_id), '{{}}'),
    coalesce(array_agg(ward.amount ORDER BY ward.ward_id), '{{}}'),
    coalesce(sum(ward.bills), 0)::bigint, min(ward.first_id)
FROM (
    SELECT ward_id, count(*) AS bills, sum(amount) AS amount, min(parcel_id) AS first_id
    FROM src GROUP BY ward_id
) ward
"""


class UnnumberedParcels(Exception):
    """The chunk had more parcels to bill than bill numbers were drawn: draw more."""

    def __init__(self, needed: int) -> None:
        super().__init__(f"{needed} bill numbers needed")
        self.needed = needed


_BILL_TABLES = ("payments_bill", "payments_billline", "land_parcelcharge")


@dataclass
class PostgresPlan:
    """What every chunk of a run on PostgreSQL shares: its statement and fixed parameters."""

    sql: str
    params: dict[str, Any]
    foreign_keys: str  # the bill tables' deferred foreign keys, quoted, for SET CONSTRAINTS
    # True: the statement runs with the row-by-row foreign-key checks off, the references
    # held by `lock_sql` (run first) and the parcels' locks instead (see the docstring).
    checks_off: bool
    lock_sql: str


def _may_load_in_bulk(cursor: Any) -> bool:
    """Whether a chunk may turn PostgreSQL's row-by-row foreign-key checks off: the role
    may set `session_replication_role`, and the bill tables have no trigger of their own
    (that setting would silence it too; a new one must be thought about here)."""
    cursor.execute(
        "SELECT has_parameter_privilege('session_replication_role', 'SET') AND NOT EXISTS ("
        " SELECT 1 FROM pg_trigger WHERE NOT tgisinternal AND tgrelid = ANY(%s::regclass[]))",
        [list(_BILL_TABLES)],
    )
    return bool(cursor.fetchone()[0])


_LOCKED = "(SELECT count(*) FROM (SELECT 1 FROM {table} WHERE id = %({key})s FOR KEY SHARE) k)"
_LOCK_REFERENCES = "SELECT {found}, ARRAY(SELECT id FROM {wards} ORDER BY id FOR KEY SHARE)"


def _lock_references_sql() -> str:
    """One statement holding, to the chunk's commit, every row a chunk's bills refer to
    but their parcels and themselves (a key-share lock, as a foreign-key check takes), and
    saying how many of the department, stream, run and user are there, and which wards."""

    def locked(table: str, key: str) -> str:
        return _LOCKED.format(table=connection.ops.quote_name(table), key=key)

    found = " + ".join(
        [
            locked(Department._meta.db_table, "department"),
            locked(RevenueStream._meta.db_table, "stream"),
            locked(BillingRun._meta.db_table, "run"),
            locked(get_user_model()._meta.db_table, "user"),
        ]
    )
    return _LOCK_REFERENCES.format(
        found=found, wards=connection.ops.quote_name(Ward._meta.db_table)
    )


def postgres_plan(ctx: BillingContext, run: BillingRun) -> PostgresPlan:
    rates, params = rates_case_sql(
        ctx.rules, site_value="e.site_value", land_use="p.land_use", zone="p.zone"
    )
    user = acting_user(ctx.actor)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence('payments_bill', 'id')")
        sequence = cursor.fetchone()[0]
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE contype = 'f' AND condeferred AND conrelid"
            " IN ('payments_bill'::regclass, 'payments_billline'::regclass,"
            " 'land_parcelcharge'::regclass) ORDER BY conname"
        )
        foreign_keys = ", ".join(connection.ops.quote_name(row[0]) for row in cursor.fetchall())
        checks_off = _may_load_in_bulk(cursor)
    params.update(
        roll=ctx.roll.pk,
        kind=ChargeKind.RATES.value,
        period=financial_year_start(ctx.financial_year),
        year=ctx.financial_year,
        bill_sequence=sequence,
        no_owner=_no_owner_template(),
        marker=_MARKER,
        department=ctx.department.pk,
        description=_description_template(ctx)[0],
        description_sw=_description_template(ctx)[1],
        due_on=ctx.rating_year.due_on,
        status="open",
        source_type=RATES_SOURCE_TYPE,
        source_suffix=rates_source_ref(parcel_id=0, financial_year=ctx.financial_year)[1:],
        user=user.pk if user is not None else None,
        stream=ctx.stream.pk,
        line_description=ctx.stream.name[:200],
        line_description_sw=ctx.stream.name_sw[:200],
        run=run.pk,
    )
    sql = _CHUNK_SQL.format(rates=rates, lock_parcels="FOR KEY SHARE OF p" if checks_off else "")
    return PostgresPlan(sql, params, foreign_keys, checks_off, _lock_references_sql())


def bill_chunk_postgresql(
    ctx: BillingContext,
    run: BillingRun,
    plan: PostgresPlan,
    *,
    after_id: int,
    last_id: int,
    numbers: int,
    watermark: Callable[[], int],
) -> ChunkResult:
    """Bill the parcels with ids in (after_id, last_id] in the caller's transaction."""
    params = dict(plan.params, after=after_id, last=last_id, now=timezone.now())
    params["numbers"] = bill_numbers(numbers)
    with connection.cursor() as cursor:
        # A chunk lost to a crash in the moment after its commit is lost with its counts,
        # and billed again by the resumed run: no need to wait for the disk at each commit.
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        # Planned for this chunk's bounds, never from a plan cached for another's.
        cursor.execute("SET LOCAL plan_cache_mode TO force_custom_plan")
        if plan.checks_off:
            cursor.execute(plan.lock_sql, params)
            found, wards = cursor.fetchone()
            if found != 3 + (params["user"] is not None):
                raise IntegrityError("the run's department, stream, run or user is gone")
            cursor.execute("SET LOCAL session_replication_role TO replica")
        cursor.execute(plan.sql, params)
        looked_at, fresh, ward_ids, amounts, bills, first_id = cursor.fetchone()
        if plan.checks_off:
            cursor.execute("SET LOCAL session_replication_role TO DEFAULT")
            if not set(ward_ids) <= set(wards):  # a ward added since the lock: draw again
                raise IntegrityError("a parcel's ward was not locked")
        if fresh > bills:
            raise UnnumberedParcels(fresh)
        if bills and plan.foreign_keys and not plan.checks_off:
            # Check the new rows' references now rather than at the commit: what follows
            # (the audit chain, the run's row) is taken under locks held to the commit,
            # which parallel chunks wait for.
            cursor.execute(f"SET CONSTRAINTS {plan.foreign_keys} IMMEDIATE")
            cursor.execute(f"SET CONSTRAINTS {plan.foreign_keys} DEFERRED")  # as declared
    by_ward = dict(zip(ward_ids, amounts, strict=True))
    if bills:
        _post_chunk(ctx, run, by_ward=by_ward, bills=bills, first_id=first_id, last_id=last_id)
    _count_chunk(run, bills=bills, amount=sum(by_ward.values(), ZERO), watermark=watermark)
    return ChunkResult(looked_at, bills)


# --- Other databases: priced in Python, written through the ORM ----------------------------


@dataclass(frozen=True)
class _NewBill:
    parcel_id: int
    parcel_number: str
    ward_id: int
    site_value: Decimal
    amount: Decimal
    payer: PayerOfParcel


def price_chunk(ctx: BillingContext, *, after_id: int, last_id: int) -> tuple[list[_NewBill], int]:
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
    new: list[_NewBill] = []
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
            _no_owner_template().replace(_MARKER, number), "", "", ""
        )
        new.append(_NewBill(parcel_id, number, ward_id, site_value, amount, payer))
    return new, len(rows)


def _write_orm(ctx: BillingContext, run: BillingRun, new: Sequence[_NewBill]) -> None:
    user = acting_user(ctx.actor)
    template, template_sw = _description_template(ctx)
    bills = [
        Bill(
            number=number,
            payer_name=item.payer.name,
            payer_phone=item.payer.phone,
            payer_id_number=item.payer.id_number,
            payer_kra_pin=item.payer.kra_pin,
            payer_key=payer_key_for(
                Payer(item.payer.name, item.payer.phone, item.payer.id_number, item.payer.kra_pin)
            ),
            department=ctx.department,
            ward_id=item.ward_id,
            description=template.replace(_MARKER, item.parcel_number)[:200],
            description_sw=template_sw.replace(_MARKER, item.parcel_number)[:200],
            due_on=ctx.rating_year.due_on,
            total=item.amount,
            source_type=RATES_SOURCE_TYPE,
            source_ref=rates_source_ref(
                parcel_id=item.parcel_id, financial_year=ctx.financial_year
            ),
            created_by=user,
        )
        for number, item in zip(bill_numbers(len(new)), new, strict=True)
    ]
    Bill.objects.bulk_create(bills, batch_size=500)
    BillLine.objects.bulk_create(
        [
            BillLine(
                bill=bill,
                stream=ctx.stream,
                description=ctx.stream.name[:200],
                description_sw=ctx.stream.name_sw[:200],
                quantity=Decimal(1),
                unit_price=item.amount,
                amount=item.amount,
            )
            for bill, item in zip(bills, new, strict=True)
        ],
        batch_size=500,
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
    by_ward: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for item in new:
        by_ward[item.ward_id] += item.amount
    if new:
        _write_orm(ctx, run, new)
        _post_chunk(
            ctx,
            run,
            by_ward=dict(by_ward),
            bills=len(new),
            first_id=new[0].parcel_id,
            last_id=last_id,
        )
    _count_chunk(run, bills=len(new), amount=sum(by_ward.values(), ZERO), watermark=watermark)
    return ChunkResult(looked_at, len(new))
