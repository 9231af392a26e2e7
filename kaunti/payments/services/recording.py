"""Recording money received, once, and allocating it (ARCHITECTURE.md, "The money path").

`record_payment` is the one entry point for every channel: M-Pesa STK and paybill, and
the counter. In one transaction it records the payment (unique per provider reference:
a repeat returns the first), allocates it to its bill (an overpayment becomes the
payer's credit; an unknown bill sends it to suspense), issues the gapless receipt, posts
the balanced ledger entry, adds to the daily collections (`daily_collections`), runs the
bill owner's settlement handler and queues the SMS to the payer.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kaunti.core.bulk import insert_objects, update_objects
from kaunti.core.identifiers import normalise_phone
from kaunti.core.money import ZERO, format_kes, kes
from kaunti.core.services.audit import Event, audited_transaction, record_event, record_events
from kaunti.core.services.documents import DocumentRecord, new_verification_code, register_documents
from kaunti.core.services.notifications import Sms, queue_sms_many
from kaunti.ledger import services as ledger
from kaunti.payments.models import (
    Allocation,
    Bill,
    BillLine,
    BillStatus,
    Channel,
    PayerCredit,
    Payment,
    Receipt,
    ReceiptSequence,
    TillSession,
)
from kaunti.payments.numbering import (
    financial_year,
    normalise_bill_number,
    receipt_number,
)
from kaunti.payments.services.daily_collections import (
    CollectionTotals,
    add_collections,
    record_collection,
    save_collections,
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


def _issue_receipts(payments: list[Payment], bills: list[Bill | None]) -> list[Receipt]:
    """Take the next numbers of each payment's financial year; gapless, safe under concurrency.

    The year's sequence row is locked until the transaction ends, so a rolled-back payment
    gives its number back and no number is ever skipped or used twice.
    """
    issued_at = timezone.now()
    years = [financial_year(timezone.localtime(payment.paid_at).date()) for payment in payments]
    next_number: dict[int, int] = {}
    for year in sorted(set(years)):
        sequence = ReceiptSequence.objects.select_for_update().filter(financial_year=year).first()
        if sequence is None:  # the year's first receipt (one query fewer on every other)
            ReceiptSequence.objects.get_or_create(financial_year=year)
            sequence = ReceiptSequence.objects.select_for_update().get(financial_year=year)
        next_number[year] = sequence.last_number
        taken = years.count(year)
        ReceiptSequence.objects.filter(pk=sequence.pk).update(last_number=F("last_number") + taken)
    receipts: list[Receipt] = []
    for payment, year in zip(payments, years, strict=True):
        next_number[year] += 1
        receipts.append(
            Receipt(
                number=receipt_number(year=year, sequence=next_number[year]),
                financial_year=year,
                sequence=next_number[year],
                payment=payment,
                verification_code=new_verification_code(),
                issued_at=issued_at,
            )
        )
    insert_objects(receipts)
    register_documents(
        [
            DocumentRecord(
                kind="receipt",
                number=receipt.number,
                holder_name=(bill.payer_name if bill else payment.payer_name) or "-",
                summary=_receipt_summary(payment, bill, "en"),
                summary_sw=_receipt_summary(payment, bill, "sw"),
                issued_at=receipt.issued_at,
                source_type="payments.receipt",
                source_ref=receipt.number,
                verification_code=receipt.verification_code,
            )
            for receipt, payment, bill in zip(receipts, payments, bills, strict=True)
        ]
    )
    return receipts


def _receipt_summary(payment: Payment, bill: Bill | None, language: str) -> str:
    """What `/verify/` shows for a receipt, in one language (ADR 15)."""
    if bill is None:
        return format_kes(payment.amount)
    with translation.override(language):
        return _("%(amount)s for bill %(number)s") % {
            "amount": format_kes(payment.amount),
            "number": bill.number,
        }


@dataclass(frozen=True)
class IncomingPayment:
    """Money received on any channel, as the channel reports it."""

    provider: str
    external_ref: str
    channel: str
    amount: Decimal
    paid_at: datetime
    bill_number: str
    payer_phone: str = ""
    payer_name: str = ""
    mpesa_receipt: str = ""
    raw: dict[str, Any] | None = None
    till_session: TillSession | None = None


@dataclass(frozen=True)
class RecordedPayment:
    payment: Payment
    created: bool


def _lock_open_bills(numbers: set[str]) -> dict[str, Bill]:
    """The named bills that are not cancelled, locked (in number order, so concurrent
    batches cannot deadlock); their wards come along for the daily collections."""
    numbers.discard("")
    if not numbers:
        return {}
    bills = (
        Bill.objects.select_for_update(of=("self",))
        .select_related("ward")
        .filter(number__in=numbers)
        .exclude(status=BillStatus.CANCELLED)
        .order_by("number")
    )
    return {bill.number: bill for bill in bills}


def _find_open_bill(bill_number: str) -> Bill | None:
    number = normalise_bill_number(bill_number)
    return _lock_open_bills({number}).get(number) if number else None


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
    incoming = IncomingPayment(
        provider=provider,
        external_ref=external_ref,
        channel=channel,
        amount=amount,
        paid_at=paid_at,
        bill_number=bill_number,
        payer_phone=payer_phone,
        payer_name=payer_name,
        mpesa_receipt=mpesa_receipt,
        raw=raw,
        till_session=till_session,
    )
    return record_payments([incoming], actor=actor)[0]


def record_payments(
    incoming: Sequence[IncomingPayment], *, actor: Any | None = None
) -> list[RecordedPayment]:
    """Record payments and everything that follows from each, exactly once, in one
    transaction: all of them or, on any error, none.

    A payment whose (provider, reference) is already recorded, or repeated in the batch,
    is not recorded again: its answer is the first one, with `created` false.
    """
    for item in incoming:
        if kes(item.amount) <= 0:
            raise ValidationError(_("A payment must be for more than KES 0."))
    keys = [(item.provider, item.external_ref) for item in incoming]
    try:
        with audited_transaction():
            known = _recorded_payments(keys)
            new: dict[tuple[str, str], IncomingPayment] = {}
            for key, item in zip(keys, incoming, strict=True):
                if key not in known:
                    new.setdefault(key, item)
            created = _record_new_payments(list(new.values()), actor=actor) if new else {}
    except IntegrityError:
        # A concurrent delivery of the same reference won the race: answer with its payment.
        known = _recorded_payments(keys)
        if any(key not in known for key in keys):
            raise
        created = {}
    answers: list[RecordedPayment] = []
    fresh = set(created)
    for key in keys:
        if key in fresh:
            fresh.discard(key)
            answers.append(RecordedPayment(created[key], created=True))
        else:  # recorded before, or earlier in this batch
            answers.append(RecordedPayment(known.get(key) or created[key], created=False))
    return answers


def _recorded_payments(keys: list[tuple[str, str]]) -> dict[tuple[str, str], Payment]:
    by_provider: dict[str, set[str]] = {}
    for provider, reference in keys:
        by_provider.setdefault(provider, set()).add(reference)
    found: dict[tuple[str, str], Payment] = {}
    for provider, references in by_provider.items():
        for payment in Payment.objects.filter(provider=provider, external_ref__in=references):
            found[(payment.provider, payment.external_ref)] = payment
    return found


def _record_new_payments(
    items: list[IncomingPayment], *, actor: Any | None
) -> dict[tuple[str, str], Payment]:
    bills = _lock_open_bills({normalise_bill_number(item.bill_number) for item in items})
    bill_lines: dict[int, list[BillLine]] = {}
    for line in BillLine.objects.filter(bill__in=bills.values()).order_by("bill_id", "pk"):
        bill_lines.setdefault(line.bill_id, []).append(line)
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    postings: list[ledger.Posting] = []
    payments: list[Payment] = []
    payment_bills: list[Bill | None] = []
    shares: list[tuple[Decimal, Decimal]] = []  # allocated to the bill, credited to the payer
    collections: CollectionTotals = {}
    for item in items:
        amount = kes(item.amount)
        bill = bills.get(normalise_bill_number(item.bill_number))
        allocated = min(amount, bill.total - bill.paid) if bill else ZERO
        credited = amount - allocated if bill else ZERO
        day = timezone.localtime(item.paid_at).date()
        postings.append(
            ledger.Posting(
                lines=_payment_lines(
                    item.channel, amount, bill=bill, allocated=allocated, credited=credited
                ),
                memo=f"Payment {item.external_ref} for "
                + (bill.number if bill else "unknown bill " + item.bill_number[:20]),
                source_type="payment",
                source_ref=f"{item.provider}:{item.external_ref}",
                posted_on=day,
            )
        )
        payments.append(
            Payment(
                provider=item.provider,
                external_ref=item.external_ref,
                channel=item.channel,
                amount=amount,
                paid_at=item.paid_at,
                account_reference=item.bill_number[:40],
                mpesa_receipt=item.mpesa_receipt,
                payer_phone=item.payer_phone[:64],
                payer_name=item.payer_name[:150],
                bill=bill,
                is_in_suspense=bill is None,
                till_session=item.till_session,
                received_by=user,
                raw=item.raw or {},
            )
        )
        payment_bills.append(bill)
        shares.append((allocated, credited))
        if bill is not None and allocated > 0:
            bill.paid += allocated
            bill.status = status_for(total=bill.total, paid=bill.paid)
            add_collections(
                collections,
                bill=bill,
                lines=bill_lines.get(bill.pk, []),
                amount=allocated,
                channel=item.channel,
                day=day,
            )
    entries = ledger.post_entries(postings, actor=actor)
    for payment, entry in zip(payments, entries, strict=True):
        payment.journal_entry = entry
    insert_objects(payments)
    _allocate_all(payments, payment_bills, shares)
    # Before the collections and the receipt numbers: an owner's handler may lock what the
    # bill paid for, and that lock comes before theirs (ADR 16).
    _settle_paid_bills(payment_bills)
    save_collections(collections)
    receipts = _issue_receipts(payments, payment_bills)
    record_events(
        [
            Event(
                actor=actor,
                action="payments.payment_recorded",
                target=payment,
                data={
                    "provider": payment.provider,
                    "reference": payment.external_ref,
                    "amount": payment.amount,
                    "bill": bill.number if bill else None,
                    "receipt": receipt.number,
                    "suspense": bill is None,
                },
            )
            for payment, bill, receipt in zip(payments, payment_bills, receipts, strict=True)
        ]
    )
    queue_sms_many(
        [
            sms
            for payment, bill, receipt, (_allocated, credited) in zip(
                payments, payment_bills, receipts, shares, strict=True
            )
            if (sms := _receipt_sms(payment, bill, receipt, credited)) is not None
        ]
    )
    return {(payment.provider, payment.external_ref): payment for payment in payments}


def _payment_lines(
    channel: str, amount: Decimal, *, bill: Bill | None, allocated: Decimal, credited: Decimal
) -> list[ledger.Line]:
    """Debit the channel's asset; credit receivables, the payer's credit, or suspense."""
    ward_id = bill.ward_id if bill else None
    lines = [
        ledger.Line(
            CHANNEL_ACCOUNTS[Channel(channel)], debit=amount, ward_id=ward_id, channel=channel
        )
    ]
    if bill is None:
        lines.append(ledger.Line(SUSPENSE, credit=amount, channel=channel))
        return lines
    if allocated > 0:
        lines.append(ledger.Line(RECEIVABLES, credit=allocated, ward_id=ward_id, channel=channel))
    if credited > 0:
        lines.append(ledger.Line(PAYER_CREDITS, credit=credited, ward_id=ward_id, channel=channel))
    return lines


def _allocate_all(
    payments: list[Payment], bills: list[Bill | None], shares: list[tuple[Decimal, Decimal]]
) -> None:
    """Write the allocations, the payers' credits and the bills' new balances."""
    allocations: list[Allocation] = []
    credits: list[PayerCredit] = []
    touched: dict[int, Bill] = {}
    for payment, bill, (allocated, credited) in zip(payments, bills, shares, strict=True):
        if bill is None:
            continue
        if allocated > 0:
            allocations.append(Allocation(payment=payment, bill=bill, amount=allocated))
            touched[bill.pk] = bill
        if credited > 0:
            credits.append(PayerCredit(payer_key=bill.payer_key, amount=credited, payment=payment))
    insert_objects(allocations)
    insert_objects(credits)
    update_objects(list(touched.values()), ["paid", "status"])


def _settle_paid_bills(bills: list[Bill | None]) -> None:
    """Run each owner's settlement handler once for every bill this batch paid in full."""
    settled: set[int] = set()
    for bill in bills:
        if bill is not None and bill.status == BillStatus.PAID and bill.pk not in settled:
            settled.add(bill.pk)
            settle(bill)


def _receipt_sms(
    payment: Payment, bill: Bill | None, receipt: Receipt, credited: Decimal
) -> Sms | None:
    phone = _sms_phone(bill, payment.payer_phone)
    if not phone:
        return None
    language = (
        getattr(bill.payer_user, "preferred_language", "en") if bill and bill.payer_user else "en"
    )
    return Sms(
        to=phone,
        template="payment_received",
        context={
            "amount": payment.amount,
            "receipt": receipt.number,
            "bill": bill.number if bill else "",
            "balance": (bill.total - bill.paid) if bill else None,
            "credit": credited,
        },
        language=language,
    )


def _allocate(*, payment: Payment, bill: Bill, allocated: Decimal, credited: Decimal) -> None:
    """Put one payment onto its bill (the suspense review's path)."""
    if allocated > 0:
        bill.paid += allocated
        bill.status = status_for(total=bill.total, paid=bill.paid)
    _allocate_all([payment], [bill], [(allocated, credited)])
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
