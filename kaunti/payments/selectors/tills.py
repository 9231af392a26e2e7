"""A cashier's till: the open session, its payments and its totals by channel."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db.models import QuerySet, Sum

from kaunti.core.money import ZERO
from kaunti.payments.models import (
    Channel,
    Payment,
    TillSession,
    TillStatus,
)


def get_open_till(*, cashier: Any) -> TillSession | None:
    """The cashier's open till, if any (at most one: `till_one_open_per_cashier`)."""
    if not getattr(cashier, "is_authenticated", False):
        return None
    return (
        TillSession.objects.filter(cashier=cashier, status=TillStatus.OPEN)
        .select_related("department")
        .first()
    )


def get_till_for_user(*, user: Any, public_id: UUID) -> TillSession | None:
    """A till session of the signed-in cashier (their own tills only)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        TillSession.objects.filter(cashier=user, public_id=public_id)
        .select_related("department")
        .first()
    )


def list_till_payments(*, till: TillSession) -> QuerySet[Payment]:
    """The payments taken at a till, newest first, with their receipts and bills."""
    return (
        Payment.objects.filter(till_session=till)
        .select_related("receipt", "receipt__cancellation", "bill")
        .order_by("-paid_at", "-pk")
    )


@dataclass(frozen=True)
class TillTotals:
    """What a till took, per channel, and the cash that should be in the drawer."""

    opening_float: Decimal
    cash_received: Decimal
    cash_cancelled: Decimal
    bank_received: Decimal
    cheques_received: Decimal
    payment_count: int
    cancelled_count: int

    @property
    def expected_cash(self) -> Decimal:
        return self.opening_float + self.cash_received - self.cash_cancelled


def _sum(payments: QuerySet[Payment]) -> Decimal:
    return payments.aggregate(total=Sum("amount"))["total"] or ZERO


def get_till_totals(*, till: TillSession) -> TillTotals:
    """Totals of a till: expected cash is the float plus cash taken less cash handed back
    when a receipt was cancelled."""
    payments = Payment.objects.filter(till_session=till)
    cancelled = payments.filter(receipt__cancellation__isnull=False)
    return TillTotals(
        opening_float=till.opening_float,
        cash_received=_sum(payments.filter(channel=Channel.CASH)),
        cash_cancelled=_sum(cancelled.filter(channel=Channel.CASH)),
        bank_received=_sum(payments.filter(channel=Channel.BANK)),
        cheques_received=_sum(payments.filter(channel=Channel.CHEQUE)),
        payment_count=payments.count(),
        cancelled_count=cancelled.count(),
    )
