"""Receipts as staff find them (to reprint or cancel), and payments waiting in suspense."""

from typing import Any
from uuid import UUID

from django.db.models import QuerySet

from kaunti.accounts.permissions import (
    require_permission,
)
from kaunti.payments.models import (
    Payment,
    Receipt,
)
from kaunti.payments.selectors.bills import require_view_bill


def receipts_with_payments() -> QuerySet[Receipt]:
    return Receipt.objects.select_related(
        "payment",
        "payment__bill",
        "payment__bill__department",
        "payment__till_session",
        "payment__received_by",
    )


def access_receipt_for_staff(*, user: Any, number: str) -> Receipt | None:
    """A receipt by number, for staff who may view its bill's department or the cashier
    whose till took it (a suspense payment's receipt: for those who review suspense).

    None when there is no such receipt; `PermissionDenied` when `user` may not see it.
    """
    receipt = receipts_with_payments().filter(number=number.strip().upper()).first()
    if receipt is None:
        return None
    payment = receipt.payment
    till = payment.till_session
    if till is not None and till.cashier_id == getattr(user, "pk", None):
        return receipt
    if payment.bill is None:
        require_permission(user, "payments.review_suspense")
    else:
        require_view_bill(user, payment.bill)
    return receipt


def access_receipt_for_cancellation(*, user: Any, number: str) -> Receipt | None:
    """A receipt a supervisor is about to cancel: None when there is no such receipt,
    `PermissionDenied` unless `user` may cancel receipts in its bill's department."""
    receipt = receipts_with_payments().filter(number=number.strip().upper()).first()
    if receipt is None:
        return None
    bill = receipt.payment.bill
    require_permission(user, "payments.cancel_receipt", bill.department if bill else None)
    return receipt


def is_receipt_cancelled(receipt: Receipt) -> bool:
    return hasattr(receipt, "cancellation")


def list_suspense_payments() -> QuerySet[Payment]:
    """Payments whose bill could not be found, oldest first (the review queue)."""
    return (
        Payment.objects.filter(is_in_suspense=True)
        .select_related("receipt")
        .order_by("paid_at", "pk")
    )


def get_suspense_payment(*, public_id: UUID) -> Payment | None:
    return list_suspense_payments().filter(public_id=public_id).first()
