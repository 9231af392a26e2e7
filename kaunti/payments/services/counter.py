"""The county counter: cashiers' till sessions, cash/bank-slip/cheque receipts, and the
supervisor's cancellation of a receipt (ARCHITECTURE.md, "The money path").

A till is opened with a float and closed with a count; the difference from what the till
should hold is recorded and posted to the ledger (Dr 5100 Cash variances / Cr 1120 Cash on
hand for a shortage, the other way for an overage). Counter payments go through
`collections.record_payment` like every channel, so they are receipted, posted and
texted the same way. A receipt is never edited or deleted: cancelling it reverses its
journal entry and adds negative rows (allocation, payer credit, collections), and only the
bill's running `paid`/`status` change in place.
"""

import re
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kaunti.accounts.permissions import has_permission
from kaunti.core import documents
from kaunti.core.audit import audited_transaction, record_event
from kaunti.core.models import Department
from kaunti.core.money import ZERO, format_kes, kes
from kaunti.ledger import selectors as ledger_selectors
from kaunti.ledger import services as ledger
from kaunti.ledger.models import JournalEntry
from kaunti.payments import selectors
from kaunti.payments.models import (
    Allocation,
    Bill,
    BillStatus,
    Channel,
    PayerCredit,
    Payment,
    Receipt,
    ReceiptCancellation,
    TillSession,
    TillStatus,
)
from kaunti.payments.numbers import normalise_bill_number
from kaunti.payments.services.bills import credit_balance, lock_payer_credit
from kaunti.payments.services.collections import record_collection, record_payment, status_for

COUNTER_PROVIDER = "counter"
CASH_ON_HAND = "1120"
CASH_VARIANCES = "5100"

METHOD_CHANNELS = {"cash": Channel.CASH, "bank": Channel.BANK, "cheque": Channel.CHEQUE}

# The banks a deposit slip or cheque may come from. The bank is part of the reference that
# makes a slip or cheque receiptable once: slip numbers are only unique within one bank.
BANKS: tuple[tuple[str, Any], ...] = (
    ("kcb", gettext_lazy("KCB Bank")),
    ("equity", gettext_lazy("Equity Bank")),
    ("coop", gettext_lazy("Co-operative Bank")),
    ("ncba", gettext_lazy("NCBA Bank")),
    ("absa", gettext_lazy("Absa Bank Kenya")),
    ("stanbic", gettext_lazy("Stanbic Bank")),
    ("stanchart", gettext_lazy("Standard Chartered")),
    ("family", gettext_lazy("Family Bank")),
    ("dtb", gettext_lazy("Diamond Trust Bank")),
    ("national", gettext_lazy("National Bank")),
    ("im", gettext_lazy("I&M Bank")),
    ("sidian", gettext_lazy("Sidian Bank")),
    ("other", gettext_lazy("Another bank")),
)
BANK_CODES = frozenset(code for code, _label in BANKS)

# A form token is what `new_form_token` makes (24 URL-safe characters); at most 40, so
# "cash:<token>" fits `Payment.external_ref`.
_FORM_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,40}$")
_DOCUMENT_NUMBER = re.compile(r"^[A-Z0-9]{3,30}$")


def new_form_token() -> str:
    """A one-time token for a counter form: a double-submitted form records one payment."""
    return secrets.token_urlsafe(18)


# --- Tills ------------------------------------------------------------------------------


@transaction.atomic
def open_till(*, cashier: Any, department: Department, opening_float: Decimal) -> TillSession:
    """Open a cashier's till with the float counted into the drawer; one open till each."""
    if not has_permission(cashier, "payments.receive_payment", department):
        raise PermissionDenied("payments.receive_payment")
    opening_float = kes(opening_float)
    if opening_float < 0:
        raise ValidationError({"opening_float": [_("The float cannot be less than KES 0.")]})
    if selectors.get_open_till(cashier=cashier) is not None:
        raise ValidationError(_("You already have an open till. Close it before opening another."))
    try:
        with transaction.atomic():
            till = TillSession.objects.create(
                cashier=cashier, department=department, opening_float=opening_float
            )
    except IntegrityError as exc:  # a second tab opened one meanwhile
        raise ValidationError(
            _("You already have an open till. Close it before opening another.")
        ) from exc
    record_event(
        actor=cashier,
        action="payments.till_opened",
        target=till,
        data={"department": department.code, "opening_float": opening_float},
    )
    return till


def _lock_own_open_till(*, till: TillSession, actor: Any) -> TillSession:
    locked = TillSession.objects.select_for_update().get(pk=till.pk)
    if locked.cashier_id != getattr(actor, "pk", None):
        raise PermissionDenied(_("This till belongs to another cashier."))
    if locked.status != TillStatus.OPEN:
        raise ValidationError(_("This till is closed. Open a new till to take payments."))
    return locked


@dataclass(frozen=True)
class CounterReference:
    """What identifies a counter payment once (`external_ref`) and what the receipt shows."""

    external_ref: str
    shown: str


def _counter_reference(
    *, method: str, bank: str, reference: str, idempotency_token: str
) -> CounterReference:
    if method == "cash":
        # The form's one-time token: submitting the same form twice records one payment.
        return CounterReference(external_ref=f"cash:{idempotency_token}", shown="")
    errors: dict[str, list[str]] = {}
    if bank not in BANK_CODES:
        errors["bank"] = [_("Choose the bank.")]
    number = "".join(ch for ch in reference.upper() if ch.isalnum())
    if not _DOCUMENT_NUMBER.match(number):
        errors["reference"] = [
            _("Enter the slip number as printed, 3 to 30 letters and digits.")
            if method == "bank"
            else _("Enter the cheque number as printed, 3 to 30 letters and digits.")
        ]
    if errors:
        raise ValidationError(errors)
    # The slip (or cheque) itself is the reference, so the same one cannot be used twice.
    return CounterReference(
        external_ref=f"{method}:{bank}:{number}", shown=f"{bank.upper()} {number}"
    )


@transaction.atomic
def receive_counter_payment(
    *,
    till: TillSession,
    bill_number: str,
    amount: Decimal,
    method: str,
    reference: str,
    idempotency_token: str,
    actor: Any,
    bank: str = "",
) -> Payment:
    """Take cash, a bank deposit slip or a cheque at the counter for a bill, and receipt it.

    A repeat of the same form (same token) returns the first payment. A slip or cheque
    already receipted is refused, whichever form it comes from. The bill must be open:
    at the counter the payer is present, so an unknown number is corrected, not sent to
    suspense.
    """
    if method not in METHOD_CHANNELS:
        raise ValidationError({"method": [_("Choose how the payer is paying.")]})
    amount = kes(amount)
    if amount <= 0:
        raise ValidationError({"amount": [_("Enter an amount of more than KES 0.")]})
    if not _FORM_TOKEN.match(idempotency_token or ""):
        raise ValidationError(_("This form has expired. Reload the page and try again."))
    locked_till = _lock_own_open_till(till=till, actor=actor)
    counter_ref = _counter_reference(
        method=method, bank=bank, reference=reference, idempotency_token=idempotency_token
    )
    existing = (
        Payment.objects.filter(provider=COUNTER_PROVIDER, external_ref=counter_ref.external_ref)
        .select_related("receipt", "bill")
        .first()
    )
    if existing is not None:
        return _repeat_or_refuse(existing=existing, till=locked_till, token=idempotency_token)
    bill = (
        Bill.objects.select_for_update()
        .filter(number=normalise_bill_number(bill_number))
        .exclude(status=BillStatus.CANCELLED)
        .first()
    )
    if bill is None:
        raise ValidationError(
            {"bill_number": [_("No open bill has that number. Check it with the payer.")]}
        )
    if bill.status == BillStatus.PAID:
        raise ValidationError({"bill_number": [_("This bill is already paid in full.")]})
    recorded = record_payment(
        provider=COUNTER_PROVIDER,
        external_ref=counter_ref.external_ref,
        channel=METHOD_CHANNELS[method],
        amount=amount,
        paid_at=timezone.now(),
        bill_number=bill.number,
        payer_phone=bill.payer_phone,
        payer_name=bill.payer_name,
        raw={"form_token": idempotency_token, "reference": counter_ref.shown, "bank": bank},
        actor=actor,
        till_session=locked_till,
    )
    if not recorded.created:  # a concurrent submission of the same form or slip won
        return _repeat_or_refuse(
            existing=recorded.payment, till=locked_till, token=idempotency_token
        )
    return recorded.payment


def _repeat_or_refuse(*, existing: Payment, till: TillSession, token: str) -> Payment:
    """The same form submitted again is answered with its payment; anything else reusing
    a slip, a cheque or a form is refused."""
    if existing.till_session_id == till.pk and existing.raw.get("form_token") == token:
        return existing
    if existing.channel == Channel.CASH:
        raise ValidationError(_("This form was already used. Reload the page and try again."))
    receipt = getattr(existing, "receipt", None)
    raise ValidationError(
        {
            "reference": [
                _("This slip or cheque was already receipted: receipt %(receipt)s, bill %(bill)s.")
                % {
                    "receipt": receipt.number if receipt else "-",
                    "bill": existing.bill.number if existing.bill else "-",
                }
            ]
        }
    )


@transaction.atomic
def close_till(*, till: TillSession, counted_cash: Decimal, actor: Any) -> TillSession:
    """Close a till with the cash counted in the drawer; post any variance to the ledger.

    Expected cash is the float plus cash taken less cash handed back for cancelled
    receipts. A shortage is an expense of the county until explained (Dr 5100 / Cr 1120);
    an overage the reverse. The cashier closes their own till; a supervisor of its
    department may close it for them.
    """
    locked = TillSession.objects.select_for_update().get(pk=till.pk)
    is_cashier = locked.cashier_id == getattr(actor, "pk", None)
    if not is_cashier and not has_permission(actor, "payments.cancel_receipt", locked.department):
        raise PermissionDenied(_("This till belongs to another cashier."))
    if locked.status != TillStatus.OPEN:
        raise ValidationError(_("This till is already closed."))
    counted = kes(counted_cash)
    if counted < 0:
        raise ValidationError({"counted_cash": [_("The cash counted cannot be less than KES 0.")]})
    expected = selectors.get_till_totals(till=locked).expected_cash
    variance = counted - expected
    if variance != 0:
        debit, credit = (
            (CASH_ON_HAND, CASH_VARIANCES) if variance > 0 else (CASH_VARIANCES, CASH_ON_HAND)
        )
        ledger.post_entry(
            lines=[
                ledger.Line(debit, debit=abs(variance), channel=Channel.CASH),
                ledger.Line(credit, credit=abs(variance), channel=Channel.CASH),
            ],
            memo=(
                f"Till of {locked.cashier} closed: "
                f"{'overage' if variance > 0 else 'shortage'} of {format_kes(abs(variance))}"
            ),
            source_type="till",
            source_ref=f"{locked.public_id}/variance",
            actor=actor,
        )
    locked.status = TillStatus.CLOSED
    locked.closed_at = timezone.now()
    locked.counted_cash = counted
    locked.expected_cash = expected
    locked.variance = variance
    locked.save(update_fields=["status", "closed_at", "counted_cash", "expected_cash", "variance"])
    record_event(
        actor=actor,
        action="payments.till_closed",
        target=locked,
        data={"expected_cash": expected, "counted_cash": counted, "variance": variance},
    )
    return locked


# --- Cancelling a receipt ---------------------------------------------------------------


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
