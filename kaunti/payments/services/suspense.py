"""Payments held in suspense (no open bill had their number) put onto the right bill by an
officer: the suspense account cleared into receivables and payer credit, the bill
settled and the collections counted, as if the payment had named it."""

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from kaunti.core.services.audit import audited_transaction, record_event
from kaunti.ledger import services as ledger
from kaunti.payments.models import (
    Bill,
    BillStatus,
    Payment,
)
from kaunti.payments.services.daily_collections import (
    record_collection,
)
from kaunti.payments.services.recording import (
    PAYER_CREDITS,
    RECEIVABLES,
    SUSPENSE,
    allocate_all,
    find_open_bill,
    status_for,
)
from kaunti.payments.settlement import settle


def _allocate(*, payment: Payment, bill: Bill, allocated: Decimal, credited: Decimal) -> None:
    """Put one payment onto its bill (the suspense review's path)."""
    if allocated > 0:
        bill.paid += allocated
        bill.status = status_for(total=bill.total, paid=bill.paid)
    allocate_all([payment], [bill], [(allocated, credited)])
    if allocated > 0 and bill.status == BillStatus.PAID:
        settle(bill)  # before the collections, as `record_payments` (ADR 16)
    if allocated > 0:
        record_collection(
            bill=bill,
            amount=allocated,
            channel=payment.channel,
            day=timezone.localtime(payment.paid_at).date(),
        )


@audited_transaction()
def assign_suspense_payment(*, payment: Payment, bill_number: str, actor: Any) -> Payment:
    """An officer puts a payment held in suspense onto the right bill."""
    locked = Payment.objects.select_for_update().get(pk=payment.pk)
    if not locked.is_in_suspense:
        raise ValidationError(_("This payment is not in suspense."))
    bill = find_open_bill(bill_number)
    if bill is None:
        raise ValidationError(_("No open bill has that number."))
    allocated = min(locked.amount, bill.total - bill.paid)
    credited = locked.amount - allocated
    lines = [ledger.Line(SUSPENSE, debit=locked.amount)]
    if allocated > 0:
        lines.append(
            ledger.Line(RECEIVABLES, credit=allocated, ward_id=bill.ward_id, channel=locked.channel)
        )
    if credited > 0:
        lines.append(
            ledger.Line(
                PAYER_CREDITS, credit=credited, ward_id=bill.ward_id, channel=locked.channel
            )
        )
    ledger.post_entry(
        lines=lines,
        memo=f"Suspense payment {locked.external_ref} assigned to bill {bill.number}",
        source_type="suspense",
        source_ref=f"{locked.provider}:{locked.external_ref}",
        actor=actor,
    )
    Payment.objects.filter(pk=locked.pk).update(is_in_suspense=False, bill=bill)
    locked.is_in_suspense, locked.bill = False, bill
    _allocate(payment=locked, bill=bill, allocated=allocated, credited=credited)
    record_event(
        actor=actor,
        action="payments.suspense_assigned",
        target=locked,
        data={"bill": bill.number, "amount": locked.amount},
    )
    return locked
