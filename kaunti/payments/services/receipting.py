"""Receipts for recorded payments: numbered without gaps from the year's sequence, each
registered as a verifiable document, and the SMS that tells the payer."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kaunti.core.bulk import insert_objects
from kaunti.core.identifiers import normalise_phone
from kaunti.core.money import format_kes
from kaunti.core.services.documents import DocumentRecord, new_verification_code, register_documents
from kaunti.core.services.notifications import Sms
from kaunti.payments.models import (
    Bill,
    Payment,
    Receipt,
    ReceiptSequence,
)
from kaunti.payments.numbering import (
    financial_year,
    receipt_number,
)


def issue_receipts(payments: list[Payment], bills: list[Bill | None]) -> list[Receipt]:
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


def _sms_phone(bill: Bill | None, payer_phone: str) -> str:
    for candidate in (bill.payer_phone if bill else "", payer_phone):
        if candidate:
            try:
                return normalise_phone(candidate)
            except ValidationError:
                continue  # masked or hashed M-Pesa numbers cannot be written to
    return ""


def receipt_sms(
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
