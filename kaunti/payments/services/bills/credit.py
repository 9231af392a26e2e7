"""A payer's credit (what they overpaid on earlier bills): how much they hold, and using it
on their open bills, as `create_bill` does at once and bills raised in bulk do after.

Whoever spends or takes back credit holds it first (`lock_payer_credit`), in the order
of ADR 16.
"""

from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Model, QuerySet, Sum
from django.utils import timezone

from kaunti.core.bulk import batched, insert_objects, update_objects
from kaunti.core.money import ZERO, kes
from kaunti.core.services.audit import Event, audited_transaction, record_events
from kaunti.ledger import services as ledger
from kaunti.payments.models import Allocation, Bill, BillLine, BillStatus, Channel, PayerCredit
from kaunti.payments.services.bills.base import PAYER_CREDITS, RECEIVABLES
from kaunti.payments.services.daily_collections import (
    CollectionTotals,
    add_collections,
    save_collections,
)
from kaunti.payments.services.recording import status_for
from kaunti.payments.settlement import settle


def credit_balance(*, payer_key: str) -> Decimal:
    """What a payer holds in credit. Rounded to the cent: SQLite sums decimals as floats,
    so 0.79 - 0.72 comes back as 0.0700000000000001 (and a zero as a tiny positive)."""
    total = PayerCredit.objects.filter(payer_key=payer_key).aggregate(total=Sum("amount"))["total"]
    return kes(total or ZERO)


def payer_keys_with_credit() -> QuerySet[PayerCredit, str]:
    """The payers who hold credit (from overpayments) not yet used on a bill: a query, to
    filter bills by in the database (`payer_key__in=`) however many they are."""
    return (
        PayerCredit.objects.values("payer_key")
        .annotate(total=Sum("amount"))
        .filter(total__gt=ZERO)
        .values_list("payer_key", flat=True)
    )


def apply_payer_credit(*, bill: Bill, actor: Any | None) -> Decimal:
    """Use the payer's credit on a bill raised without it. Returns the amount used."""
    return apply_payer_credits(bill_ids=[bill.pk], actor=actor)


@audited_transaction()
def apply_payer_credits(*, bill_ids: Sequence[int], actor: Any | None) -> Decimal:
    """Use what the bills' payers hold in credit on bills raised without it, in the order
    given (bills raised in bulk, like the year's land rates, skip the step `create_bill`
    takes). A few hundred bills at a time is one transaction of a dozen statements.
    Returns the amount used."""
    order = {bill_id: position for position, bill_id in enumerate(bill_ids)}
    locked = list(  # in key order, as every writer of bills locks them
        Bill.objects.select_for_update(of=("self",))
        .select_related("ward")
        .filter(pk__in=list(order))
        .order_by("pk")
    )
    locked.sort(key=lambda bill: order[bill.pk])
    return use_payer_credit(
        [bill for bill in locked if bill.status in (BillStatus.OPEN, BillStatus.PARTLY_PAID)],
        actor=actor,
    )


def apply_held_credits(
    bills: QuerySet[Bill], *, actor: Any | None, also_analyze: Sequence[type[Model]] = ()
) -> Decimal:
    """Use what payers hold in credit on `bills`, raised in bulk (another app's run), in
    the query's order, as `create_bill` does for a bill raised alone; the amount used.

    Once the bulk work is done: the bills of payers who hold credit take it 500 at a time,
    a transaction each; work resumed after a crash comes here again, and a credit used once
    is gone. On PostgreSQL the bills' statistics (and those of the caller's tables that
    `bills` joins, `also_analyze`) are refreshed first: without the run's new rows in them
    the planner expects a handful and tests every bill against every holder (three minutes
    for 10,000 holders among 200,000 bills, instead of a fraction of a second)."""
    holders = payer_keys_with_credit()
    if not holders.exists():
        return ZERO
    if connection.vendor == "postgresql":
        models: list[type[Model]] = [*also_analyze, Bill, PayerCredit]
        tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in models)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {tables}")
    bill_ids = list(bills.filter(payer_key__in=holders).values_list("pk", flat=True))
    used = ZERO
    for batch in batched(bill_ids, 500):
        used += apply_payer_credits(bill_ids=batch, actor=actor)
    return used


# Two-key advisory locks (a space apart from the one-key lock of the audit sequencer
# and the billing runs): this class, and a hash of the payer's key.
_PAYER_CREDIT_LOCK_CLASS = 18_0001


def _credit_held(payer_keys: Sequence[str]) -> dict[str, Decimal]:
    """What each payer holds in credit (only those who hold any)."""
    totals = (
        PayerCredit.objects.filter(payer_key__in=payer_keys)
        .values("payer_key")
        .annotate(total=Sum("amount"))
        .values_list("payer_key", "total")
    )
    held = {key: kes(total) for key, total in totals}  # kes: SQLite sums as floats
    return {key: amount for key, amount in held.items() if amount > 0}


def lock_payer_credit(payer_keys: Collection[str]) -> bool:
    """Hold the credit of these payers until the transaction ends, if any of them holds
    some (False, and nothing locked, when none does). Whoever spends or takes back credit
    holds it first, so that two transactions cannot both spend the same shillings.

    `create_bill` takes it before writing anything (ADR 16); keys in sorted order (unnest keeps the array's), so two holders
    never wait for each other crosswise."""
    keys = sorted(set(payer_keys))
    if not _credit_held(keys):
        return False
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_advisory_xact_lock(%s, hashtext(key)))"
                " FROM unnest(%s::text[]) AS key",
                [_PAYER_CREDIT_LOCK_CLASS, keys],
            )
    return True


def use_payer_credit(bills: Sequence[Bill], *, actor: Any | None) -> Decimal:
    """Use payers' credit (from earlier overpayments) on open bills the caller has locked
    or just raised, in order, each up to its balance: per bill a credit movement, an
    allocation, a journal entry (payer credits to receivables), the day's collections by
    its lines and an audit link; a bill paid in full is settled."""
    payer_keys = sorted({bill.payer_key for bill in bills})
    if not lock_payer_credit(payer_keys):
        return ZERO
    available = _credit_held(payer_keys)  # again, now that no one else may spend it
    used: list[tuple[Bill, Decimal]] = []
    for bill in bills:
        amount = min(available.get(bill.payer_key, ZERO), bill.total - bill.paid)
        if amount > 0:
            available[bill.payer_key] -= amount
            used.append((bill, amount))
    if not used:
        return ZERO
    spent = insert_objects(
        PayerCredit(payer_key=bill.payer_key, amount=-amount, bill=bill) for bill, amount in used
    )
    insert_objects(Allocation(bill=bill, amount=amount, from_credit=True) for bill, amount in used)
    for bill, amount in used:
        bill.paid += amount
        bill.status = status_for(total=bill.total, paid=bill.paid)
    update_objects([bill for bill, _amount in used], ["paid", "status"])
    ledger.post_entries(
        [
            ledger.Posting(
                lines=[
                    ledger.Line(PAYER_CREDITS, debit=amount),
                    ledger.Line(RECEIVABLES, credit=amount),
                ],
                memo=f"Credit applied to bill {bill.number}",
                source_type="credit",
                source_ref=f"{bill.number}/{credit.pk}",  # a bill may take credit more than once
            )
            for (bill, amount), credit in zip(used, spent, strict=True)
        ],
        actor=actor,
    )
    lines: dict[int, list[BillLine]] = {bill.pk: [] for bill, _amount in used}
    for line in BillLine.objects.filter(bill_id__in=list(lines)).order_by("bill_id", "pk"):
        lines[line.bill_id].append(line)
    today = timezone.localdate()
    totals: CollectionTotals = {}
    for bill, amount in used:
        add_collections(
            totals,
            bill=bill,
            lines=lines[bill.pk],
            amount=amount,
            channel=Channel.CREDIT,
            day=today,
        )
    save_collections(totals)
    record_events(
        [
            Event(
                actor=actor, action="payments.credit_applied", target=bill, data={"amount": amount}
            )
            for bill, amount in used
        ]
    )
    for bill, _amount in used:
        if bill.status == BillStatus.PAID:
            settle(bill)
    return sum((amount for _bill, amount in used), ZERO)
