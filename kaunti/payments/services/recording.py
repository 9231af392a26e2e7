"""Recording money received, once, and allocating it (ARCHITECTURE.md, "The money path").

`record_payment` is the one entry point for every channel: M-Pesa STK and paybill, and
the counter. In one transaction it records the payment (unique per provider reference:
a repeat returns the first), allocates it to its bill (an overpayment becomes the
payer's credit; an unknown bill sends it to suspense), issues the gapless receipt, posts
the balanced ledger entry, adds to the daily collections (`daily_collections`), runs the
bill owner's settlement handler and queues the SMS to the payer.


Receipts are issued in `receipting`; payments in suspense are assigned in `suspense`.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone
from django.utils.translation import gettext as _

from kaunti.core.bulk import insert_objects, update_objects
from kaunti.core.money import ZERO, kes
from kaunti.core.services.audit import Event, audited_transaction, record_events
from kaunti.core.services.notifications import queue_sms_many
from kaunti.ledger import services as ledger
from kaunti.payments.models import (
    Allocation,
    Bill,
    BillLine,
    BillStatus,
    Channel,
    PayerCredit,
    Payment,
    TillSession,
)
from kaunti.payments.numbering import (
    normalise_bill_number,
)
from kaunti.payments.services.daily_collections import (
    CollectionTotals,
    add_collections,
    save_collections,
)
from kaunti.payments.services.receipting import issue_receipts, receipt_sms
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


def find_open_bill(bill_number: str) -> Bill | None:
    number = normalise_bill_number(bill_number)
    return _lock_open_bills({number}).get(number) if number else None


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
    allocate_all(payments, payment_bills, shares)
    # Before the collections and the receipt numbers: an owner's handler may lock what the
    # bill paid for, and that lock comes before theirs (ADR 16).
    _settle_paid_bills(payment_bills)
    save_collections(collections)
    receipts = issue_receipts(payments, payment_bills)
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
            if (sms := receipt_sms(payment, bill, receipt, credited)) is not None
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


def allocate_all(
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
