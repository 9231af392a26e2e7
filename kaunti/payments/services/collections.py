"""Recording money received, once, and allocating it (ARCHITECTURE.md, "The money path").

`record_payment` is the one entry point for every channel: M-Pesa STK and paybill, and
the counter. In one transaction it records the payment (unique per provider reference:
a repeat returns the first), allocates it to its bill (an overpayment becomes the
payer's credit; an unknown bill sends it to suspense), issues the gapless receipt, posts
the balanced ledger entry, updates the daily collections, runs the bill owner's
settlement handler and queues the SMS to the payer.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kaunti.core.audit import record_event
from kaunti.core.documents import new_verification_code, register_document
from kaunti.core.identifiers import normalise_phone
from kaunti.core.money import ZERO, kes
from kaunti.core.notifications import queue_sms
from kaunti.ledger import services as ledger
from kaunti.payments.models import (
    Allocation,
    Bill,
    BillStatus,
    Channel,
    DailyCollection,
    PayerCredit,
    Payment,
    Receipt,
    ReceiptSequence,
    TillSession,
)
from kaunti.payments.numbers import (
    financial_year,
    normalise_bill_number,
    receipt_number,
)
from kaunti.payments.settlement import settle

CHANNEL_ACCOUNTS = {
    Channel.MPESA_STK: "1100",
    Channel.MPESA_PAYBILL: "1100",
    Channel.BANK: "1110",
    Channel.CASH: "1120",
    Channel.CHEQUE: "1130",
}
RECEIVABLES = "1200"
SUSPENSE = "2100"
PAYER_CREDITS = "2200"


def status_for(*, total: Decimal, paid: Decimal) -> str:
    if paid <= 0:
        return BillStatus.OPEN
    return BillStatus.PAID if paid >= total else BillStatus.PARTLY_PAID


def record_collection(*, bill: Bill, amount: Decimal, channel: str, day: date) -> None:
    """Add (or, negative, take back) an allocation to the daily collections, per stream.

    The amount is split over the bill's lines in proportion to their amounts; the last
    line takes the rounding remainder, so the parts always add up to the whole.
    """
    lines = list(bill.lines.all())
    ward_code = bill.ward.code if bill.ward_id and bill.ward else ""
    remaining = amount
    for index, line in enumerate(lines):
        share = remaining if index == len(lines) - 1 else kes(amount * line.amount / bill.total)
        remaining -= share
        if share == 0:
            continue
        count = 1 if amount > 0 else -1
        key = {"day": day, "stream_id": line.stream_id, "ward_code": ward_code, "channel": channel}
        updated = DailyCollection.objects.filter(**key).update(
            amount=F("amount") + share, count=F("count") + count
        )
        if not updated:
            try:
                with transaction.atomic():
                    DailyCollection.objects.create(**key, amount=share, count=count)
            except IntegrityError:  # created meanwhile by a concurrent payment
                DailyCollection.objects.filter(**key).update(
                    amount=F("amount") + share, count=F("count") + count
                )


def _issue_receipt(*, payment: Payment, bill: Bill | None) -> Receipt:
    """Take the next number of the payment's financial year; gapless, safe under concurrency.

    The sequence row is locked until the transaction ends, so a rolled-back payment
    gives its number back and no number is ever skipped or used twice.
    """
    year = financial_year(timezone.localtime(payment.paid_at).date())
    sequence = ReceiptSequence.objects.select_for_update().filter(financial_year=year).first()
    if sequence is None:  # the year's first receipt (one query fewer on every other)
        ReceiptSequence.objects.get_or_create(financial_year=year)
        sequence = ReceiptSequence.objects.select_for_update().get(financial_year=year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    receipt = Receipt.objects.create(
        number=receipt_number(year=year, sequence=sequence.last_number),
        financial_year=year,
        sequence=sequence.last_number,
        payment=payment,
        verification_code=new_verification_code(),
        issued_at=timezone.now(),
    )
    register_document(
        kind="receipt",
        number=receipt.number,
        holder_name=(bill.payer_name if bill else payment.payer_name) or "-",
        summary=f"KES {payment.amount:,.2f}" + (f" for bill {bill.number}" if bill else ""),
        issued_at=receipt.issued_at,
        source_type="payments.receipt",
        source_ref=receipt.number,
        verification_code=receipt.verification_code,
    )
    return receipt


@dataclass(frozen=True)
class RecordedPayment:
    payment: Payment
    created: bool


def _find_open_bill(bill_number: str) -> Bill | None:
    number = normalise_bill_number(bill_number)
    if not number:
        return None
    return (
        # The ward comes along for the daily collections; only the bill's row is locked.
        Bill.objects.select_for_update(of=("self",))
        .select_related("ward")
        .filter(number=number)
        .exclude(status=BillStatus.CANCELLED)
        .first()
    )


def _sms_phone(bill: Bill | None, payer_phone: str) -> str:
    for candidate in (bill.payer_phone if bill else "", payer_phone):
        if candidate:
            try:
                return normalise_phone(candidate)
            except ValidationError:
                continue  # masked or hashed M-Pesa numbers cannot be written to
    return ""


def record_payment(
    *,
    provider: str,
    external_ref: str,
    channel: str,
    amount: Decimal,
    paid_at: datetime,
    bill_number: str,
    payer_phone: str = "",
    payer_name: str = "",
    mpesa_receipt: str = "",
    raw: dict[str, Any] | None = None,
    actor: Any | None = None,
    till_session: TillSession | None = None,
) -> RecordedPayment:
    """Record one payment and everything that follows from it, exactly once."""
    amount = kes(amount)
    if amount <= 0:
        raise ValidationError(_("A payment must be for more than KES 0."))
    existing = Payment.objects.filter(provider=provider, external_ref=external_ref).first()
    if existing is not None:
        return RecordedPayment(existing, created=False)
    try:
        with transaction.atomic():
            payment = _record_new_payment(
                provider=provider,
                external_ref=external_ref,
                channel=channel,
                amount=amount,
                paid_at=paid_at,
                bill_number=bill_number,
                payer_phone=payer_phone,
                payer_name=payer_name,
                mpesa_receipt=mpesa_receipt,
                raw=raw or {},
                actor=actor,
                till_session=till_session,
            )
    except IntegrityError:
        # A concurrent delivery of the same reference won the race: return its payment.
        existing = Payment.objects.filter(provider=provider, external_ref=external_ref).first()
        if existing is None:
            raise
        return RecordedPayment(existing, created=False)
    return RecordedPayment(payment, created=True)


def _record_new_payment(
    *,
    provider: str,
    external_ref: str,
    channel: str,
    amount: Decimal,
    paid_at: datetime,
    bill_number: str,
    payer_phone: str,
    payer_name: str,
    mpesa_receipt: str,
    raw: dict[str, Any],
    actor: Any | None,
    till_session: TillSession | None,
) -> Payment:
    bill = _find_open_bill(bill_number)
    asset = CHANNEL_ACCOUNTS[Channel(channel)]
    ward_id = bill.ward_id if bill else None
    allocated = min(amount, bill.total - bill.paid) if bill else ZERO
    credited = amount - allocated if bill else ZERO
    lines = [ledger.Line(asset, debit=amount, ward_id=ward_id, channel=channel)]
    if bill is None:
        lines.append(ledger.Line(SUSPENSE, credit=amount, channel=channel))
    else:
        if allocated > 0:
            lines.append(
                ledger.Line(RECEIVABLES, credit=allocated, ward_id=ward_id, channel=channel)
            )
        if credited > 0:
            lines.append(
                ledger.Line(PAYER_CREDITS, credit=credited, ward_id=ward_id, channel=channel)
            )
    entry = ledger.post_entry(
        lines=lines,
        memo=f"Payment {external_ref} for {bill.number if bill else 'unknown bill ' + bill_number[:20]}",
        source_type="payment",
        source_ref=f"{provider}:{external_ref}",
        actor=actor,
        posted_on=timezone.localtime(paid_at).date(),
    )
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    payment = Payment.objects.create(
        provider=provider,
        external_ref=external_ref,
        channel=channel,
        amount=amount,
        paid_at=paid_at,
        account_reference=bill_number[:40],
        mpesa_receipt=mpesa_receipt,
        payer_phone=payer_phone[:64],
        payer_name=payer_name[:150],
        bill=bill,
        is_in_suspense=bill is None,
        journal_entry=entry,
        till_session=till_session,
        received_by=user,
        raw=raw,
    )
    if bill is not None:
        _allocate(payment=payment, bill=bill, allocated=allocated, credited=credited)
    receipt = _issue_receipt(payment=payment, bill=bill)
    record_event(
        actor=actor,
        action="payments.payment_recorded",
        target=payment,
        data={
            "provider": provider,
            "reference": external_ref,
            "amount": amount,
            "bill": bill.number if bill else None,
            "receipt": receipt.number,
            "suspense": bill is None,
        },
    )
    phone = _sms_phone(bill, payer_phone)
    if phone:
        language = (
            getattr(bill.payer_user, "preferred_language", "en")
            if bill and bill.payer_user
            else "en"
        )
        queue_sms(
            to=phone,
            template="payment_received",
            context={
                "amount": amount,
                "receipt": receipt.number,
                "bill": bill.number if bill else "",
                "balance": (bill.total - bill.paid) if bill else None,
                "credit": credited,
            },
            language=language,
        )
    return payment


def _allocate(*, payment: Payment, bill: Bill, allocated: Decimal, credited: Decimal) -> None:
    if allocated > 0:
        Allocation.objects.create(payment=payment, bill=bill, amount=allocated)
        bill.paid += allocated
        bill.status = status_for(total=bill.total, paid=bill.paid)
        bill.save(update_fields=["paid", "status"])
        record_collection(
            bill=bill,
            amount=allocated,
            channel=payment.channel,
            day=timezone.localtime(payment.paid_at).date(),
        )
    if credited > 0:
        PayerCredit.objects.create(payer_key=bill.payer_key, amount=credited, payment=payment)
    if allocated > 0 and bill.status == BillStatus.PAID:
        settle(bill)


@transaction.atomic
def assign_suspense_payment(*, payment: Payment, bill_number: str, actor: Any) -> Payment:
    """An officer puts a payment held in suspense onto the right bill."""
    locked = Payment.objects.select_for_update().get(pk=payment.pk)
    if not locked.is_in_suspense:
        raise ValidationError(_("This payment is not in suspense."))
    bill = _find_open_bill(bill_number)
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
