"""Reads of the ledger: balances and the trial balance."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q, Sum

from kaunti.core.language import in_language
from kaunti.core.money import ZERO
from kaunti.ledger.models import Account, JournalEntry, JournalLine


@dataclass(frozen=True)
class TrialBalanceRow:
    code: str
    name: str
    type: str
    debit: Decimal
    credit: Decimal
    name_sw: str = ""

    @property
    def localized_name(self) -> str:
        return in_language(self.name, self.name_sw)

    @property
    def balance(self) -> Decimal:
        """Debit balance positive, credit balance negative."""
        return self.debit - self.credit


@dataclass(frozen=True)
class TrialBalance:
    rows: list[TrialBalanceRow]
    total_debit: Decimal
    total_credit: Decimal

    @property
    def is_balanced(self) -> bool:
        return self.total_debit == self.total_credit


def get_trial_balance(*, as_of: date | None = None) -> TrialBalance:
    """Total debits and credits per account (up to `as_of` inclusive); they must agree."""
    line_filter = Q(lines__entry__posted_on__lte=as_of) if as_of else Q()
    accounts = (
        Account.objects.annotate(
            total_debit=Sum("lines__debit", filter=line_filter),
            total_credit=Sum("lines__credit", filter=line_filter),
        )
        .filter(Q(total_debit__isnull=False) | Q(total_credit__isnull=False))
        .order_by("code")
    )
    rows = [
        TrialBalanceRow(
            a.code, a.name, a.type, a.total_debit or ZERO, a.total_credit or ZERO, a.name_sw
        )
        for a in accounts
    ]
    return TrialBalance(
        rows=rows,
        total_debit=sum((r.debit for r in rows), ZERO),
        total_credit=sum((r.credit for r in rows), ZERO),
    )


def get_account_balance(*, code: str) -> Decimal:
    """Debits less credits on one account."""
    totals = JournalLine.objects.filter(account__code=code).aggregate(
        d=Sum("debit"), c=Sum("credit")
    )
    return (totals["d"] or ZERO) - (totals["c"] or ZERO)


def entry_exists_for_source(*, source_type: str, source_ref: str) -> bool:
    return JournalEntry.objects.filter(source_type=source_type, source_ref=source_ref).exists()


def get_entry_for_source(*, source_type: str, source_ref: str) -> JournalEntry:
    """The entry that recorded a given thing (e.g. the raising of bill X)."""
    return JournalEntry.objects.get(source_type=source_type, source_ref=source_ref)
