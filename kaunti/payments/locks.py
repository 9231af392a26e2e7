"""The locks the money path takes, in the one order every transaction takes them (ADR 16).

Two transactions that take two of these locks the other way round can deadlock, as a bill
raised while the rates run spent the same payer's credit once did. `LOCK_ORDER` is that
order; `lock_taken_by` names the lock a SQL statement takes, so that the test suite can
watch every statement and fail a path that takes a lock of an earlier rank after a later
one (`kaunti/conftest.py`, fixture `lock_order`, on every PostgreSQL test). A lock marked
`alone` (the audit chain's sequencer, ADR 19) must be the only one of its transaction.
"""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Lock:
    """One kind of lock of the money path: its name and the statements that take it."""

    name: str
    why: str
    taken_by: re.Pattern[str]
    # Taken only in a transaction that takes no other lock of this list, before or after.
    alone: bool = False


def _for_update_of(table: str) -> re.Pattern[str]:
    return re.compile(rf'FROM "{table}"(?:(?!\bFROM\b).)*\bFOR (?:NO KEY )?UPDATE', re.DOTALL)


LOCK_ORDER: tuple[Lock, ...] = (
    Lock(
        "billing run",
        "a land rates or penalty run's year or month: one run at a time",
        re.compile(r"pg_advisory(?:_xact)?_lock\(%s, %s\)"),
    ),
    Lock(
        "till session",
        "a cashier's open till: its takings and its closing",
        _for_update_of("payments_tillsession"),
    ),
    Lock(
        "receipt",
        "a receipt being cancelled, and its payment",
        _for_update_of("payments_receipt"),
    ),
    Lock(
        "stk request",
        "an M-Pesa prompt, locked by its answer before the answer pays its bill",
        _for_update_of("payments_stkrequest"),
    ),
    Lock(
        "bill",
        "bills paid, cancelled or credited, in number order",
        _for_update_of("payments_bill"),
    ),
    Lock(
        "application",
        "an application moved by its workflow, or settled once its bill is paid",
        _for_update_of("eservices_application"),
    ),
    Lock(
        "payer credit",
        "a payer's credit, held by whoever spends or takes it back",
        re.compile(r"pg_advisory_xact_lock\(%s, hashtext\(key\)\)"),
    ),
    Lock(
        "collections",
        "the daily collections by stream, then day, ward and channel",
        re.compile(r'INSERT INTO "?payments_dailycollection"? .* ON CONFLICT', re.DOTALL),
    ),
    Lock(
        "receipt sequence",
        "the financial year's gapless receipt numbers",
        _for_update_of("payments_receiptsequence"),
    ),
    Lock(
        "audit sequencer",
        "the audit chain's sequencer, in a transaction of its own: writers take no audit "
        "lock (ADR 19)",
        re.compile(r"pg_(?:try_)?advisory_xact_lock\(%s\)"),
        alone=True,
    ),
)

RANK = {lock.name: rank for rank, lock in enumerate(LOCK_ORDER)}
ALONE = frozenset(lock.name for lock in LOCK_ORDER if lock.alone)


def lock_taken_by(sql: str) -> Lock | None:
    """The money-path lock this statement takes, if any."""
    for lock in LOCK_ORDER:
        if lock.taken_by.search(sql):
            return lock
    return None
