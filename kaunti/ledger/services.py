"""Every write of the ledger: post a balanced entry, reverse one, close a period, load the chart.

The ledger knows nothing of bills or payments: callers hand it lines by account code.
"""

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from kaunti.core.bulk import insert_objects
from kaunti.core.money import ZERO, kes
from kaunti.core.services.audit import record_event
from kaunti.ledger.models import Account, AccountingPeriod, JournalEntry, JournalLine

CHART_FILE = Path(__file__).resolve().parent / "data" / "chart_of_accounts.csv"


class LedgerError(Exception):
    """A posting was refused; nothing was written."""


class UnbalancedEntry(LedgerError):
    pass


class PeriodClosed(LedgerError):
    pass


@dataclass(frozen=True)
class Line:
    """One side of a posting: an account code and a debit or a credit, with dimensions."""

    account: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    ward_id: int | None = None
    channel: str = ""


def _period_for_share(posted_on: date) -> tuple[Any, ...] | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT closed_at FROM ledger_accountingperiod WHERE year = %s AND month = %s FOR SHARE",
            [posted_on.year, posted_on.month],
        )
        row: tuple[Any, ...] | None = cursor.fetchone()
    return row


def _check_period_open(posted_on: date) -> None:
    """Refuse postings into a closed month.

    On PostgreSQL the period row is read FOR SHARE: postings do not block each other, but
    `close_period` (FOR UPDATE) waits for the postings in flight and they wait for it.
    """
    if connection.vendor == "postgresql":
        row = _period_for_share(posted_on)
        if row is None:  # the month's first posting (one query fewer on every other)
            AccountingPeriod.objects.get_or_create(year=posted_on.year, month=posted_on.month)
            row = _period_for_share(posted_on)
        closed = row is not None and row[0] is not None
    else:
        AccountingPeriod.objects.get_or_create(year=posted_on.year, month=posted_on.month)
        closed = AccountingPeriod.objects.filter(
            year=posted_on.year, month=posted_on.month, closed_at__isnull=False
        ).exists()
    if closed:
        raise PeriodClosed(f"the period {posted_on:%Y-%m} is closed")


def _accounts_by_code(codes: set[str]) -> dict[str, Account]:
    accounts = {a.code: a for a in Account.objects.filter(code__in=codes, is_active=True)}
    missing = codes - accounts.keys()
    if missing:
        raise LedgerError(f"unknown or inactive accounts: {', '.join(sorted(missing))}")
    return accounts


@dataclass(frozen=True)
class Posting:
    """One journal entry to post: its lines and what it records."""

    lines: Sequence[Line]
    memo: str
    source_type: str
    source_ref: str
    posted_on: date | None = None
    reverses: JournalEntry | None = None


def _clean_lines(lines: Sequence[Line]) -> list[Line]:
    """Amounts in cents, one positive side per line, debits equal to credits."""
    clean: list[Line] = []
    for line in lines:
        debit, credit = kes(line.debit), kes(line.credit)
        if (debit > 0) == (credit > 0) or debit < 0 or credit < 0:
            raise UnbalancedEntry(f"a line must have one positive side: {line}")
        clean.append(Line(line.account, debit, credit, line.ward_id, line.channel))
    total_debit = sum((line.debit for line in clean), ZERO)
    total_credit = sum((line.credit for line in clean), ZERO)
    if len(clean) < 2 or total_debit != total_credit:
        raise UnbalancedEntry(f"debits {total_debit} do not equal credits {total_credit}")
    return clean


@transaction.atomic
def post_entries(postings: Sequence[Posting], *, actor: Any | None = None) -> list[JournalEntry]:
    """Post several balanced entries at once (the batch form of `post_entry`).

    Every entry is checked before anything is written; one bad entry refuses them all.
    """
    today = timezone.localdate()
    cleaned = [(_clean_lines(posting.lines), posting.posted_on or today) for posting in postings]
    for month in sorted({(posted_on.year, posted_on.month) for _, posted_on in cleaned}):
        _check_period_open(date(month[0], month[1], 1))
    accounts = _accounts_by_code({line.account for lines, _ in cleaned for line in lines})
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    entries = insert_objects(
        JournalEntry(
            posted_on=posted_on,
            memo=posting.memo[:255],
            source_type=posting.source_type,
            source_ref=posting.source_ref,
            reverses=posting.reverses,
            created_by=user,
        )
        for posting, (_, posted_on) in zip(postings, cleaned, strict=True)
    )
    insert_objects(
        JournalLine(
            entry=entry,
            account=accounts[line.account],
            debit=line.debit,
            credit=line.credit,
            ward_id=line.ward_id,
            channel=line.channel,
        )
        for entry, (lines, _) in zip(entries, cleaned, strict=True)
        for line in lines
    )
    return entries


def post_entry(
    *,
    lines: Sequence[Line],
    memo: str,
    source_type: str,
    source_ref: str,
    actor: Any | None = None,
    posted_on: date | None = None,
    reverses: JournalEntry | None = None,
) -> JournalEntry:
    """Post one balanced entry (debits equal credits, every amount positive, in cents).

    The balance is checked here and again by the database at commit on PostgreSQL.
    """
    posting = Posting(lines, memo, source_type, source_ref, posted_on, reverses)
    return post_entries([posting], actor=actor)[0]


@transaction.atomic
def reverse_entry(
    *, entry: JournalEntry, memo: str, actor: Any | None, posted_on: date | None = None
) -> JournalEntry:
    """Post the mirror image of `entry` (each debit becomes a credit); at most once."""
    original = JournalEntry.objects.select_for_update().get(pk=entry.pk)
    if original.reverses_id is not None:
        raise LedgerError("a reversal cannot itself be reversed; post a new entry instead")
    if JournalEntry.objects.filter(reverses=original).exists():
        raise LedgerError(f"entry {original.pk} is already reversed")
    mirrored = [
        Line(
            line.account.code,
            debit=line.credit,
            credit=line.debit,
            ward_id=line.ward_id,
            channel=line.channel,
        )
        for line in original.lines.select_related("account")
    ]
    reversal = post_entry(
        lines=mirrored,
        memo=memo,
        source_type=original.source_type,
        source_ref=f"{original.source_ref}/reversal",
        actor=actor,
        posted_on=posted_on,
        reverses=original,
    )
    record_event(
        actor=actor,
        action="ledger.entry_reversed",
        target=original,
        data={"reversal": reversal.pk, "memo": memo},
    )
    return reversal


@transaction.atomic
def close_period(*, year: int, month: int, actor: Any) -> AccountingPeriod:
    """Close a month: from now on postings dated in it are refused."""
    period, _ = AccountingPeriod.objects.get_or_create(year=year, month=month)
    period = AccountingPeriod.objects.select_for_update().get(pk=period.pk)
    if period.closed_at is None:
        period.closed_at = timezone.now()
        period.closed_by = actor if getattr(actor, "is_authenticated", False) else None
        period.save(update_fields=["closed_at", "closed_by"])
        record_event(
            actor=actor, action="ledger.period_closed", target=period, data={"period": str(period)}
        )
    return period


@transaction.atomic
def load_chart_of_accounts(*, path: Path = CHART_FILE) -> int:
    """Create or update the standard accounts from CSV (idempotent)."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        Account.objects.update_or_create(
            code=row["code"].strip(),
            defaults={
                "name": row["name"].strip(),
                "name_sw": row.get("name_sw", "").strip(),
                "type": row["type"].strip(),
                "gl_item_code": row.get("gl_item_code", "").strip(),
            },
        )
    return len(rows)


def ensure_account(
    *, code: str, name: str, name_sw: str = "", type: str, gl_item_code: str = ""
) -> Account:
    """Create or update one account (used for revenue heads loaded with the price list)."""
    account, _ = Account.objects.update_or_create(
        code=code,
        defaults={"name": name, "name_sw": name_sw, "type": type, "gl_item_code": gl_item_code},
    )
    return account
