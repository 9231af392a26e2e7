"""The ledger's rules: balanced entries only, corrections by reversal, closed months stay
closed, and on PostgreSQL the database itself refuses what the code would refuse."""

from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction

from kaunti.core.models import AuditEvent
from kaunti.ledger.models import Account, AccountingPeriod, JournalEntry, JournalLine
from kaunti.ledger.selectors import get_account_balance, get_trial_balance
from kaunti.ledger.services import (
    LedgerError,
    Line,
    PeriodClosed,
    UnbalancedEntry,
    close_period,
    load_chart_of_accounts,
    post_entry,
    reverse_entry,
)

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="the ledger's triggers are installed on PostgreSQL only (CI runs it)",
)

OCTOBER = date(2026, 10, 14)


@pytest.fixture
def chart(db: None) -> None:
    load_chart_of_accounts()


def receive(amount: str, ref: str, posted_on: date = OCTOBER) -> JournalEntry:
    """Money received for no known bill: Dr M-Pesa clearing, Cr suspense."""
    return post_entry(
        lines=[Line("1100", debit=Decimal(amount)), Line("2100", credit=Decimal(amount))],
        memo=f"Payment {ref}",
        source_type="test",
        source_ref=ref,
        posted_on=posted_on,
    )


def test_an_unbalanced_entry_is_refused_and_nothing_is_written(chart: None) -> None:
    with pytest.raises(UnbalancedEntry, match=r"debits 100\.00 do not equal credits 90\.00"):
        post_entry(
            lines=[Line("1100", debit=Decimal("100")), Line("2100", credit=Decimal("90"))],
            memo="Unbalanced",
            source_type="test",
            source_ref="unbalanced",
            posted_on=OCTOBER,
        )

    assert JournalEntry.objects.count() == 0
    assert JournalLine.objects.count() == 0


def test_a_line_with_both_sides_or_neither_is_refused_and_nothing_is_written(
    chart: None,
) -> None:
    for bad in (Line("1100", debit=Decimal("5"), credit=Decimal("5")), Line("1100")):
        with pytest.raises(UnbalancedEntry, match="one positive side"):
            post_entry(
                lines=[bad, Line("2100", credit=Decimal("5"))],
                memo="Bad line",
                source_type="test",
                source_ref="bad",
                posted_on=OCTOBER,
            )

    assert JournalEntry.objects.count() == 0


def test_a_reversal_mirrors_every_line_and_nets_the_accounts_to_zero(chart: None) -> None:
    entry = receive("1500.50", "RKT1")

    reversal = reverse_entry(entry=entry, memo="Entered twice", actor=None)

    assert reversal.reverses_id == entry.pk
    assert reversal.source_ref == "RKT1/reversal"
    mirrored = sorted(reversal.lines.values_list("account__code", "debit", "credit"))
    assert mirrored == [
        ("1100", Decimal("0.00"), Decimal("1500.50")),
        ("2100", Decimal("1500.50"), Decimal("0.00")),
    ]
    assert get_account_balance(code="1100") == Decimal("0.00")
    assert get_account_balance(code="2100") == Decimal("0.00")
    assert AuditEvent.objects.filter(action="ledger.entry_reversed").count() == 1


def test_an_entry_cannot_be_reversed_twice_nor_a_reversal_reversed(chart: None) -> None:
    entry = receive("200", "RKT2")
    reversal = reverse_entry(entry=entry, memo="Mistake", actor=None)

    with pytest.raises(LedgerError, match="already reversed"):
        reverse_entry(entry=entry, memo="Again", actor=None)
    with pytest.raises(LedgerError, match="cannot itself be reversed"):
        reverse_entry(entry=reversal, memo="Undo the undo", actor=None)

    assert JournalEntry.objects.count() == 2
    assert JournalLine.objects.count() == 4
    assert AuditEvent.objects.filter(action="ledger.entry_reversed").count() == 1


def test_a_closed_month_refuses_a_later_posting_dated_in_it_and_nothing_is_written(
    chart: None,
) -> None:
    receive("300", "RKT3")
    period = close_period(year=2026, month=10, actor=None)

    with pytest.raises(PeriodClosed, match="2026-10 is closed"):
        receive("400", "RKT4", posted_on=date(2026, 10, 31))

    assert period.is_closed
    assert list(JournalEntry.objects.values_list("source_ref", flat=True)) == ["RKT3"]
    assert JournalLine.objects.count() == 2
    assert get_account_balance(code="1100") == Decimal("300.00")
    receive("400", "RKT5", posted_on=date(2026, 11, 1))  # the next month is open
    assert get_account_balance(code="1100") == Decimal("700.00")


def test_closing_a_month_twice_keeps_the_first_closing(chart: None) -> None:
    first = close_period(year=2026, month=9, actor=None)
    again = close_period(year=2026, month=9, actor=None)

    assert again.closed_at == first.closed_at
    assert AccountingPeriod.objects.filter(closed_at__isnull=False).count() == 1
    assert AuditEvent.objects.filter(action="ledger.period_closed").count() == 1


def test_the_trial_balance_as_of_a_date_counts_entries_up_to_that_day(chart: None) -> None:
    receive("100", "RKT6", posted_on=date(2026, 10, 1))
    receive("250", "RKT7", posted_on=date(2026, 10, 2))

    first_day = get_trial_balance(as_of=date(2026, 10, 1))
    both = get_trial_balance(as_of=date(2026, 10, 2))

    assert (first_day.total_debit, first_day.total_credit) == (Decimal("100"), Decimal("100"))
    assert (both.total_debit, both.total_credit) == (Decimal("350"), Decimal("350"))
    assert both.is_balanced
    assert [(row.code, row.balance) for row in both.rows] == [
        ("1100", Decimal("350")),
        ("2100", Decimal("-350")),
    ]


@on_postgresql
def test_on_postgresql_a_posted_line_cannot_be_updated_or_deleted(chart: None) -> None:
    entry = receive("500", "RKT8")
    line = entry.lines.get(account__code="1100")

    for statement in (
        "UPDATE ledger_journalline SET debit = debit + 1 WHERE id = %s",
        "DELETE FROM ledger_journalline WHERE id = %s",
        "UPDATE ledger_journalentry SET memo = 'edited' WHERE id = %s",
    ):
        target = entry.pk if "journalentry" in statement else line.pk
        with (
            pytest.raises(DatabaseError, match="the ledger is immutable"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [target])

    line.refresh_from_db()
    entry.refresh_from_db()
    assert line.debit == Decimal("500.00")
    assert entry.memo == "Payment RKT8"
    assert JournalLine.objects.filter(entry=entry).count() == 2


def write_unbalanced_entry(lines_seen_before_commit: list[int]) -> None:
    """Insert an entry of Dr 100 / Cr 90 with raw SQL, past the service's checks."""
    accounts = dict(Account.objects.values_list("code", "pk"))
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO ledger_journalentry (posted_on, posted_at, memo, source_type,"
                " source_ref) VALUES (%s, now(), 'raw', 'test', 'raw-1') RETURNING id",
                [OCTOBER],
            )
            row = cursor.fetchone()
            assert row is not None
            cursor.execute(
                "INSERT INTO ledger_journalline (entry_id, account_id, debit, credit, channel)"
                " VALUES (%s, %s, 100, 0, ''), (%s, %s, 0, 90, '')",
                [row[0], accounts["1100"], row[0], accounts["2100"]],
            )
        lines_seen_before_commit.append(JournalLine.objects.filter(entry_id=row[0]).count())


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_an_unbalanced_entry_written_with_raw_sql_fails_at_commit(
    chart: None,
) -> None:
    lines_seen_before_commit: list[int] = []

    with pytest.raises(IntegrityError, match="does not balance"):
        write_unbalanced_entry(lines_seen_before_commit)

    assert lines_seen_before_commit == [2]  # both inserts passed: the check runs at commit
    assert not JournalEntry.objects.filter(source_ref="raw-1").exists()
    assert JournalLine.objects.count() == 0
