"""The daily collections: each allocation, split over its bill's lines, added to the
day's total per revenue stream, ward and channel (what the revenue reports read).

Recording a payment (`recording`), a counter reversal (`counter`) and paying bills from
a payer's credit (`bills`) all add to these totals through here.
"""

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection

from kaunti.core.money import ZERO, kes
from kaunti.payments.models import Bill, BillLine, DailyCollection

# The day's collections being added up: (day, stream id, ward code, channel) to the amount
# and the count of allocations.
CollectionTotals = dict[tuple[date, int, str, str], tuple[Decimal, int]]


def add_collections(
    totals: CollectionTotals,
    *,
    bill: Bill,
    lines: list[BillLine],
    amount: Decimal,
    channel: str,
    day: date,
) -> None:
    """Split `amount` over the bill's lines in proportion (the last line takes the rounding
    remainder, so the parts add up to the whole) and add each part to `totals`."""
    ward_code = bill.ward.code if bill.ward_id and bill.ward else ""
    remaining = amount
    count = 1 if amount > 0 else -1
    for index, line in enumerate(lines):
        share = remaining if index == len(lines) - 1 else kes(amount * line.amount / bill.total)
        remaining -= share
        if share == 0:
            continue
        key = (day, line.stream_id, ward_code, channel)
        before_amount, before_count = totals.get(key, (ZERO, 0))
        totals[key] = (before_amount + share, before_count + count)


def _lock_order(item: tuple[tuple[date, int, str, str], Any]) -> tuple[int, date, str, str]:
    (day, stream_id, ward_code, channel), _totals = item
    return stream_id, day, ward_code, channel


def save_collections(totals: CollectionTotals) -> None:
    """Add the totals to the daily collections: one upsert per (day, stream, ward, channel).

    The database's triggers roll each row up into its day's and its month's totals per
    stream. Rows are written by stream, then day, ward and channel, so concurrent batches
    take the daily, day-per-stream and month-per-stream rows in one global order and
    cannot deadlock.
    """
    if not totals:
        return
    table = DailyCollection._meta.db_table
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (day, stream_id, ward_code, channel, amount, count)"  # noqa: S608
            " VALUES (%s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (day, stream_id, ward_code, channel) DO UPDATE"
            f" SET amount = {table}.amount + excluded.amount,"
            f" count = {table}.count + excluded.count",
            [
                [day, stream_id, ward_code, channel, amount, count]
                for (day, stream_id, ward_code, channel), (amount, count) in sorted(
                    totals.items(), key=_lock_order
                )
            ],
        )


def record_collection(*, bill: Bill, amount: Decimal, channel: str, day: date) -> None:
    """Add (or, negative, take back) an allocation to the daily collections, per stream."""
    totals: CollectionTotals = {}
    add_collections(
        totals, bill=bill, lines=list(bill.lines.all()), amount=amount, channel=channel, day=day
    )
    save_collections(totals)
