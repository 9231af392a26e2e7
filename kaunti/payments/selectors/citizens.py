"""What a citizen sees: only the bills raised in their name, their receipts and prompts;
anything else is None, so the page answers 404 and nobody learns which numbers exist."""

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.db.models import QuerySet

from kaunti.payments.models import (
    Bill,
    Receipt,
    StkRequest,
)
from kaunti.payments.numbering import normalise_bill_number
from kaunti.payments.selectors.receipts import receipts_with_payments


def list_citizen_bills(*, user: Any) -> QuerySet[Bill]:
    """The bills raised in the signed-in person's name, newest first."""
    if not getattr(user, "is_authenticated", False):
        return Bill.objects.none()
    return Bill.objects.filter(payer_user=user).order_by("-created_at", "-pk")


def get_citizen_bill(*, user: Any, number: str) -> Bill | None:
    return list_citizen_bills(user=user).filter(number=normalise_bill_number(number)).first()


def list_citizen_receipts(*, bills: Iterable[Bill]) -> dict[int, list[Receipt]]:
    """The receipts of each of the given bills, by bill id (one query)."""
    by_bill: dict[int, list[Receipt]] = {}
    receipts = (
        Receipt.objects.filter(payment__bill__in=list(bills))
        .select_related("payment", "cancellation")
        .order_by("issued_at", "pk")
    )
    for receipt in receipts:
        bill_id = receipt.payment.bill_id
        if bill_id is not None:
            by_bill.setdefault(bill_id, []).append(receipt)
    return by_bill


def get_citizen_receipt(*, user: Any, number: str) -> Receipt | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        receipts_with_payments()
        .filter(number=number.strip().upper(), payment__bill__payer_user=user)
        .first()
    )


def get_citizen_stk_request(*, user: Any, bill: Bill, public_id: UUID) -> StkRequest | None:
    """A prompt sent for one of the person's bills."""
    if not getattr(user, "is_authenticated", False):
        return None
    return StkRequest.objects.filter(public_id=public_id, bill=bill, bill__payer_user=user).first()
