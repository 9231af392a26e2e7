"""Raising many bills in one `INSERT ... SELECT` on PostgreSQL: the fast path of the
year's land rates (ADR 9), behind payments' own door.

The caller (the app whose run it is) says what to bill with SQL over its own tables, a
`BillQuery`: one bill of one line, of the raising's stream, for each row that its `rows`
gives. Payments wraps that query in its own statement, which numbers the rows (numbers
drawn in Python and passed as an array, joined by position), inserts the bills and their
lines, lets the caller's `then` statement write its own rows for the bills just raised
(`raised`: the caller's columns with `bill_id` and `bill_number`), and returns the totals
per ward for the journal entry, which payments books (`book_raised`), with the caller's
`tally`. Nothing but the bill numbers goes through Python, and only payments' SQL writes
payments' tables.

Where the database role may set `session_replication_role` (a superuser, or a role given
`GRANT SET ON PARAMETER session_replication_role`, PostgreSQL 15+) and none of the tables
written has a trigger of its own, the statement runs as a bulk load does (ADR 9):
PostgreSQL's per-row foreign-key checks, half of its work, are off for it, and the
statement holds what they would have held instead, once: a key-share lock on the
department, the stream, the user, the caller's `holds` and every ward, taken first, and on
each of the caller's rows that `then` refers to, which `rows` locks itself (`row_lock`).
The bills' lines refer to the bills the same statement inserts; a ward named by a bill but
not locked (one added since) fails the statement. Unique and check constraints are
enforced as always. Without the privilege the checks run row by row, before anything
else the caller's transaction takes (its run's row).

The caller's SQL is trusted code (never user input) with `%(name)s` parameters; the names
beginning `bills_` are payments', as are the CTEs `bills_todo`, `raised`, `bills_made`,
`bills_lines` and `bills_then`.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from kaunti.core.models import Ward
from kaunti.core.money import ZERO
from kaunti.payments.models import Bill, BillLine
from kaunti.payments.numbering import new_bill_numbers
from kaunti.payments.services.bills.base import acting_user, payer_key_sql
from kaunti.payments.services.bills.bulk import Booking, BulkTerms, book_raised

# The columns each row of a `BillQuery` gives for its bill (empty strings, not NULLs).
BILL_COLUMNS = (
    "amount", "ward_id", "payer_name", "payer_phone", "payer_id_number", "payer_kra_pin",
    "description", "description_sw", "source_ref",
)  # fmt: skip


@dataclass(frozen=True)
class BillQuery:
    """What to bill, as SQL over the caller's tables (see the module's docstring).

    - `rows`: a SELECT giving one row a bill with the `BILL_COLUMNS` (and any columns of
      the caller's own, for `then`), after the CTEs of `ctes` (`name AS (...)`, comma
      separated) if any. Where either says `{row_lock}` comes `row_lock` when the checks
      are off (nothing when they are on).
    - `then`: one data-modifying statement of the caller's reading `raised`, or empty.
    - `writes`: the models `then` writes, whose triggers and foreign keys count as the bills'.
    - `holds`: the rows `then` refers to that are the same for every bill (a run).
    - `tally`: SQL expressions (scalar subqueries) the statement returns with its totals.
    """

    rows: str
    ctes: str = ""
    row_lock: str = ""
    then: str = ""
    writes: Sequence[type[models.Model]] = ()
    holds: Sequence[models.Model] = ()
    tally: Sequence[str] = ()
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class QueryPlan:
    """A `BillQuery` made ready once for every call of a run: its statement and the fixed
    parameters, and whether it runs without the row-by-row checks."""

    terms: BulkTerms
    sql: str
    params: dict[str, Any]
    checks_off: bool
    lock_sql: str  # with the checks off: the shared references, held first
    references: int  # how many of them `lock_sql` must find (wards apart)
    foreign_keys: str  # with them on: the tables' deferred foreign keys, quoted


@dataclass(frozen=True)
class QueryRaised:
    """What one call raised: bills and their total, per ward, and the caller's tally."""

    bills: int
    amount: Decimal
    by_ward: dict[int | None, Decimal]
    tally: tuple[Any, ...]


class _TooFewNumbers(Exception):
    def __init__(self, needed: int) -> None:
        super().__init__(f"{needed} bill numbers needed")
        self.needed = needed


_STATEMENT = """
WITH {ctes}bills_todo AS MATERIALIZED (
    {rows}
),
raised AS MATERIALIZED (
    SELECT todo.*, nextval(%(bills_sequence)s::regclass) AS bill_id, drawn.bill_number
    FROM (SELECT bills_todo.*, row_number() OVER () AS bills_position FROM bills_todo) todo
    -- A hash join (the array's length is known: every call is planned for itself); a
    -- subscript instead would walk the array of variable-length text from its start.
    JOIN unnest(%(bills_numbers)s::text[]) WITH ORDINALITY AS drawn(bill_number, position)
        ON drawn.position = todo.bills_position
),
bills_made AS (
    INSERT INTO {bill} (id, number, payer_name, payer_phone, payer_id_number, payer_kra_pin,
        payer_key, payer_user_id, department_id, ward_id, description, description_sw, due_on,
        status, total, paid, source_type, source_ref, created_by_id, created_at)
    SELECT bill_id, bill_number, left(payer_name, 150), payer_phone, payer_id_number,
        payer_kra_pin, {payer_key}, NULL, %(bills_department)s, ward_id, left(description, 200),
        left(description_sw, 200), %(bills_due_on)s, 'open', amount, 0, %(bills_source_type)s,
        source_ref, %(bills_user)s, %(bills_now)s
    FROM raised
),
bills_lines AS (
    INSERT INTO {line} (bill_id, stream_id, description, description_sw, quantity, unit_price,
        amount)
    SELECT bill_id, %(bills_stream)s, %(bills_line)s, %(bills_line_sw)s, 1, amount, amount
    FROM raised
){then}
SELECT (SELECT count(*) FROM bills_todo),
    coalesce(array_agg(ward.ward_id ORDER BY ward.ward_id), '{{}}'),
    coalesce(array_agg(ward.amount ORDER BY ward.ward_id), '{{}}'),
    coalesce(sum(ward.bills), 0)::bigint{tally}
FROM (SELECT ward_id, count(*) AS bills, sum(amount) AS amount FROM raised GROUP BY ward_id) ward
"""


def plan_bill_query(query: BillQuery, *, terms: BulkTerms) -> QueryPlan:
    """Make `query` ready for every call of a run, on PostgreSQL."""
    tables = [Bill._meta.db_table, BillLine._meta.db_table]
    tables += [model._meta.db_table for model in query.writes]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [Bill._meta.db_table])
        sequence = cursor.fetchone()[0]
        checks_off = _may_load_in_bulk(cursor, tables)
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE contype = 'f' AND condeferred"
            " AND conrelid = ANY(%s::regclass[]) ORDER BY conname",
            [tables],
        )
        foreign_keys = ", ".join(connection.ops.quote_name(row[0]) for row in cursor.fetchall())
    user = acting_user(terms.actor)
    params = dict(
        query.params,
        bills_sequence=sequence,
        bills_department=terms.department.pk,
        bills_due_on=terms.due_on,
        bills_source_type=terms.source_type,
        bills_user=user.pk if user is not None else None,
        bills_stream=terms.stream.pk,
        bills_line=terms.stream.name[:200],
        bills_line_sw=terms.stream.name_sw[:200],
    )
    lock_sql, references = _lock_references_sql(terms, query.holds, params)
    return QueryPlan(
        terms=terms,
        sql=_statement(query, row_lock=query.row_lock if checks_off else ""),
        params=params,
        checks_off=checks_off,
        lock_sql=lock_sql,
        references=references,
        foreign_keys=foreign_keys,
    )


def raise_bills_by_query(
    plan: QueryPlan,
    *,
    params: dict[str, Any],
    at_most: int,
    booking: Callable[[QueryRaised], Booking],
) -> QueryRaised:
    """Raise the bills of the plan's query (with `params` for this call) in the caller's
    transaction, and book them in one entry (`booking` gives its memo and source from what
    was raised; none when nothing was).

    Bill numbers are drawn for `at_most` rows; a query that gives more (its rows changed
    since the caller counted them) is rolled back to a savepoint and run again with enough.
    A bill number already taken, or a ward added since the wards were locked, fails with
    `IntegrityError`: the caller's transaction rolls back and is tried again."""
    params = dict(plan.params, **params, bills_now=timezone.now())
    with connection.cursor() as cursor:
        # Planned for this call's values, never from a plan cached for another's (ADR 13).
        cursor.execute("SET LOCAL plan_cache_mode TO force_custom_plan")
        wards = _hold_references(cursor, plan, params) if plan.checks_off else None
        numbers = at_most
        while True:
            try:
                with transaction.atomic():
                    raised = _insert(cursor, plan, params, new_bill_numbers(numbers), wards)
                break
            except _TooFewNumbers as short:
                numbers = short.needed
    if raised.bills:
        book_raised(raised.by_ward, terms=plan.terms, booking=booking(raised))
    return raised


def _insert(
    cursor: Any, plan: QueryPlan, params: dict[str, Any], numbers: list[str], wards: Any
) -> QueryRaised:
    params["bills_numbers"] = numbers
    if plan.checks_off:
        cursor.execute("SET LOCAL session_replication_role TO replica")
    cursor.execute(plan.sql, params)
    found, ward_ids, amounts, bills, *tally = cursor.fetchone()
    if plan.checks_off:
        cursor.execute("SET LOCAL session_replication_role TO DEFAULT")
        if not set(ward_ids) <= set(wards):  # a ward added since the lock: draw again
            raise IntegrityError("a bill's ward was not locked")
    if found > bills:
        raise _TooFewNumbers(found)
    if bills and plan.foreign_keys and not plan.checks_off:
        # Check the new rows' references now rather than at the commit: what the caller
        # takes next (its run's row) is held to the commit, and parallel
        # callers would wait for it.
        cursor.execute(f"SET CONSTRAINTS {plan.foreign_keys} IMMEDIATE")
        cursor.execute(f"SET CONSTRAINTS {plan.foreign_keys} DEFERRED")  # as declared
    by_ward = dict(zip(ward_ids, amounts, strict=True))
    return QueryRaised(bills, sum(by_ward.values(), ZERO), by_ward, tuple(tally))


def _statement(query: BillQuery, *, row_lock: str) -> str:
    return _STATEMENT.format(
        ctes=f"{query.ctes.replace('{row_lock}', row_lock)},\n" if query.ctes else "",
        rows=query.rows.replace("{row_lock}", row_lock),
        bill=connection.ops.quote_name(Bill._meta.db_table),
        line=connection.ops.quote_name(BillLine._meta.db_table),
        payer_key=payer_key_sql(
            name="payer_name",
            phone="payer_phone",
            id_number="payer_id_number",
            kra_pin="payer_kra_pin",
        ),
        then=f",\nbills_then AS (\n    {query.then}\n)" if query.then else "",
        tally="".join(f",\n    {expression}" for expression in query.tally),
    )


def _may_load_in_bulk(cursor: Any, tables: list[str]) -> bool:
    """Whether the statement may turn PostgreSQL's row-by-row foreign-key checks off: the
    role may set `session_replication_role`, and the tables written have no trigger of
    their own (that setting would silence it too; a new one must be thought about here)."""
    cursor.execute(
        "SELECT has_parameter_privilege('session_replication_role', 'SET') AND NOT EXISTS ("
        " SELECT 1 FROM pg_trigger WHERE NOT tgisinternal AND tgrelid = ANY(%s::regclass[]))",
        [tables],
    )
    return bool(cursor.fetchone()[0])


_LOCKED = "(SELECT count(*) FROM (SELECT 1 FROM {table} WHERE id = %({key})s FOR KEY SHARE) k)"
_LOCK_REFERENCES = "SELECT {found}, ARRAY(SELECT id FROM {wards} ORDER BY id FOR KEY SHARE)"


def _lock_references_sql(
    terms: BulkTerms, holds: Sequence[models.Model], params: dict[str, Any]
) -> tuple[str, int]:
    """One statement holding, to the commit, every row the bills and the caller's `then`
    refer to but the caller's own rows and the bills themselves (a key-share lock, as a
    foreign-key check takes), and saying how many of them are there, and which wards; and
    how many it must find."""
    shared: list[tuple[type[models.Model], str]] = [
        (type(terms.department), "bills_department"),
        (type(terms.stream), "bills_stream"),
    ]
    for index, held in enumerate(holds):
        params[f"bills_held_{index}"] = held.pk
        shared.append((type(held), f"bills_held_{index}"))
    if params["bills_user"] is not None:
        shared.append((get_user_model(), "bills_user"))
    found = " + ".join(
        _LOCKED.format(table=connection.ops.quote_name(model._meta.db_table), key=key)
        for model, key in shared
    )
    wards = connection.ops.quote_name(Ward._meta.db_table)
    return _LOCK_REFERENCES.format(found=found, wards=wards), len(shared)


def _hold_references(cursor: Any, plan: QueryPlan, params: dict[str, Any]) -> list[int]:
    """Take the plan's shared references (see `_lock_references_sql`); the wards held."""
    cursor.execute(plan.lock_sql, params)
    found, wards = cursor.fetchone()
    if found != plan.references:
        raise IntegrityError("a row the bills refer to (department, stream, user, run) is gone")
    return list(wards)
