"""A supervisor's cancellation of a receipt issued in error (ARCHITECTURE.md, "The money
path"). A receipt is never edited or deleted: cancelling it reverses its journal entry and
adds negative rows (allocation, payer credit, collections), and only the bill's running
`paid`/`status` change in place.
"""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kaunti.accounts.permissions import has_permission
from kaunti.core.money import ZERO, format_kes
from kaunti.core.services import documents
from kaunti.core.services.audit import audited_transaction, record_event
from kaunti.ledger import selectors as ledger_selectors
from kaunti.ledger import services as ledger
from kaunti.ledger.models import JournalEntry
from kaunti.payments.models import (
    Allocation,
    Bill,
    BillStatus,
    PayerCredit,
    Payment,
    Receipt,
    ReceiptCancellation,
)
from kaunti.payments.services.bills import credit_balance, lock_payer_credit
from kaunti.payments.services.daily_collections import record_collection
from kaunti.payments.services.recording import status_for


@audited_transaction()
def cancel_receipt(
    *, receipt: Receipt, reason: str, requested_by: Any, approved_by: Any
) -> ReceiptCancellation:
    """Cancel a receipt issued in error: every effect of its payment is undone by reversal.

    Two people: the requester (usually the cashier who issued it) and a supervisor of the
    bill's department who approves (`payments.cancel_receipt`); nobody approves their
    own request. The payment's journal entry is reversed (and, for a payment that came
    out of suspense, the entry that assigned it); a negative allocation takes it off the
    bill; a negative credit takes back any overpayment; the day's collections go down;
    the receipt no longer verifies.
    """
    locked = Receipt.objects.select_for_update().select_related("payment").get(pk=receipt.pk)
    payment = Payment.objects.select_for_update().get(pk=locked.payment_id)
    cancelled = ReceiptCancellation.objects.filter(receipt=locked).first()
    if cancelled is not None:
        raise ValidationError(
            _("Receipt %(number)s was already cancelled on %(day)s.")
            % {
                "number": locked.number,
                "day": timezone.localtime(cancelled.cancelled_at).strftime("%d/%m/%Y"),
            }
        )
    if payment.is_in_suspense or payment.bill_id is None:
        raise ValidationError(
            _(
                "This payment is in suspense: it is not on any bill, so there is nothing to "
                "undo. Assign it to the right bill from the suspense queue instead; cancelling "
                "would take money the county holds off the books."
            )
        )
    bill = Bill.objects.select_for_update().select_related("department").get(pk=payment.bill_id)
    if not has_permission(approved_by, "payments.cancel_receipt", bill.department):
        raise PermissionDenied(
            _("Only a supervisor of the bill's department can cancel a receipt.")
        )
    if getattr(requested_by, "pk", None) is None or not (
        requested_by.is_active and requested_by.is_county_staff
    ):
        raise ValidationError(
            {"requested_by": [_("The requester must be an active staff member.")]}
        )
    if requested_by.pk == approved_by.pk:
        raise ValidationError(
            {"requested_by": [_("You cannot approve your own request: another supervisor must.")]}
        )
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError({"reason": [_("Give the reason for cancelling the receipt.")]})
    if bill.source_type and bill.status == BillStatus.PAID:
        raise ValidationError(
            _(
                "This payment settled bill %(bill)s and the service it paid for has been "
                "delivered. Ask the department that raised the bill to withdraw the service "
                "first."
            )
            % {"bill": bill.number}
        )
    allocated = (
        Allocation.objects.filter(payment=payment).aggregate(total=Sum("amount"))["total"] or ZERO
    )
    credits = list(PayerCredit.objects.filter(payment=payment))
    credited = sum((credit.amount for credit in credits), ZERO)
    payer_key = credits[0].payer_key if credits else bill.payer_key
    if credited > 0:
        lock_payer_credit([payer_key])  # no one spends it while it is checked and taken back
    if credited > 0 and credit_balance(payer_key=payer_key) < credited:
        raise ValidationError(
            _(
                "The %(amount)s credit this payment left has already been used on another "
                "bill. Cancel the receipt of that bill's credit first."
            )
            % {"amount": format_kes(credited)}
        )

    memo = f"Receipt {locked.number} cancelled: {reason}"[:255]
    reversal = ledger.reverse_entry(entry=payment.journal_entry, memo=memo, actor=approved_by)
    try:
        assignment = ledger_selectors.get_entry_for_source(
            source_type="suspense", source_ref=f"{payment.provider}:{payment.external_ref}"
        )
    except JournalEntry.DoesNotExist:
        pass  # the payment found its bill at once: its own entry was all there was
    else:
        ledger.reverse_entry(entry=assignment, memo=memo, actor=approved_by)
    if allocated > 0:
        Allocation.objects.create(payment=payment, bill=bill, amount=-allocated)
        bill.paid -= allocated
        bill.status = status_for(total=bill.total, paid=bill.paid)
        bill.save(update_fields=["paid", "status"])
        # Taken back on the day of the cancellation, as the ledger's reversal is dated.
        record_collection(
            bill=bill, amount=-allocated, channel=payment.channel, day=timezone.localdate()
        )
    if credited > 0:
        PayerCredit.objects.create(payer_key=payer_key, amount=-credited, payment=payment)
    document = documents.verify(code=locked.verification_code).document
    if document is not None:
        documents.revoke_document(document=document, reason=f"Cancelled: {reason}")
    cancellation = ReceiptCancellation.objects.create(
        receipt=locked,
        reason=reason[:255],
        requested_by=requested_by,
        approved_by=approved_by,
        reversal_entry=reversal,
    )
    record_event(
        actor=approved_by,
        action="payments.receipt_cancelled",
        target=locked,
        data={
            "receipt": locked.number,
            "bill": bill.number,
            "amount": payment.amount,
            "taken_off_bill": allocated,
            "credit_taken_back": credited,
            "reason": reason,
            "requested_by": requested_by.get_username(),
        },
    )
    return cancellation
