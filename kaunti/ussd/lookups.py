"""What the USSD menus and SMS commands look up, through the owning apps' selectors.

Each function answers with the few facts a phone screen shows, or None when there is
nothing the caller may see; none of them writes.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import translation

from kaunti.core.money import ZERO
from kaunti.core.services import documents
from kaunti.eservices.selectors.applications.citizen import (
    get_citizen_application,
    list_citizen_applications,
)
from kaunti.eservices.selectors.complaints import get_citizen_complaint, list_citizen_complaints
from kaunti.eservices.services.renewals import renew_by_document_number
from kaunti.land.selectors.balances import parcel_balance
from kaunti.land.selectors.keypad import find_parcels_typed_on_keypad, list_parcels_of_phone
from kaunti.land.selectors.parcels import parcel_number_example
from kaunti.payments.models import Bill, BillStatus
from kaunti.payments.selectors import bills as payment_bills
from kaunti.ussd.selectors import get_citizen_by_phone


@dataclass(frozen=True)
class BillFacts:
    number: str
    description: str
    balance: Decimal
    is_paid: bool


def looks_like_bill_number(raw: str) -> bool:
    """A bill number with a correct check character (catches most typing mistakes)."""
    return payment_bills.looks_like_bill_number(raw)


def find_bill(*, number: str) -> Bill | None:
    """A bill anyone may pay by its number (as at M-Pesa's paybill); not a cancelled one."""
    if not payment_bills.looks_like_bill_number(number):
        return None
    return payment_bills.get_bill_for_counter(number=number)


def bill_facts(bill: Bill) -> BillFacts:
    balance = max(ZERO, bill.total - bill.paid)
    return BillFacts(
        number=bill.number,
        description=bill.localized_description,
        balance=balance,
        is_paid=bill.status == BillStatus.PAID or balance <= ZERO,
    )


@dataclass(frozen=True)
class StatusFacts:
    reference: str
    title: str
    status: str


def find_status(*, phone: str, reference: str, language: str) -> StatusFacts | None:
    """The status of an application or complaint made by the holder of `phone`; None for
    anyone else's, so a caller learns nothing about references that are not theirs."""
    citizen = get_citizen_by_phone(phone=phone)
    if citizen is None:
        return None
    with translation.override(language):
        application = get_citizen_application(user=citizen, reference=reference)
        if application is not None:
            return StatusFacts(
                reference=application.reference,
                title=application.service.name(language),
                status=str(application.get_status_display()),
            )
        complaint = get_citizen_complaint(user=citizen, reference=reference)
        if complaint is not None:
            return StatusFacts(
                reference=complaint.reference,
                title=complaint.category.name(language),
                status=str(complaint.get_status_display()),
            )
    return None


@dataclass(frozen=True)
class DocumentFacts:
    state: str  # valid, expired, revoked
    kind: str
    number: str
    holder_name: str
    valid_until: str


def verify_document(*, code: str) -> DocumentFacts | None:
    result = documents.verify(code=code)
    document = result.document
    if document is None:
        return None
    return DocumentFacts(
        state=result.state,
        kind=document.kind_label,
        number=document.number,
        holder_name=document.holder_name,
        # Day first, as Kenyans write it (docs/glossary.md).
        valid_until=f"{document.valid_until:%d/%m/%Y}" if document.valid_until else "",
    )


@dataclass(frozen=True)
class ParcelFacts:
    """No owner: a caller who types a parcel number learns what it owes, never who holds it."""

    parcel_number: str
    balance: Decimal  # all that is owed on the parcel
    bill_number: str | None  # the oldest open bill, paid first
    bill_balance: Decimal  # what paying that bill now costs


def find_parcel(*, number: str) -> ParcelFacts | None:
    """A parcel's rates balance and the open bill to pay first; None for an unknown one."""
    found = parcel_balance(number=number)
    if found is None:
        return None
    bill = find_bill(number=found.bill_number) if found.bill_number else None
    return ParcelFacts(
        parcel_number=found.parcel_number,
        balance=found.balance,
        bill_number=bill.number if bill is not None else None,
        bill_balance=bill_facts(bill).balance if bill is not None else ZERO,
    )


def find_parcel_numbers(*, typed: str, limit: int = 20) -> list[str]:
    """Parcel numbers a keypad input may mean (digits, spaces, `*` for `/`), best first."""
    return find_parcels_typed_on_keypad(typed=typed, limit=limit)


def parcels_of_caller(*, phone: str) -> list[str]:
    """Numbers of the parcels the caller holds or is billed for, by their own phone."""
    return list_parcels_of_phone(phone=phone)


def parcel_example() -> str:
    return parcel_number_example()


@dataclass(frozen=True)
class ReferenceChoice:
    reference: str
    title: str


def references_of_caller(*, phone: str, language: str, limit: int = 20) -> list[ReferenceChoice]:
    """The caller's own applications and reports, newest first, to choose from."""
    citizen = get_citizen_by_phone(phone=phone)
    if citizen is None:
        return []
    choices = [
        (application.created_at, application.reference, application.service.name(language))
        for application in list_citizen_applications(user=citizen)[:limit]
    ] + [
        (complaint.created_at, complaint.reference, complaint.category.name(language))
        for complaint in list_citizen_complaints(user=citizen)[:limit]
    ]
    choices.sort(key=lambda choice: choice[0], reverse=True)
    return [ReferenceChoice(reference, title) for _at, reference, title in choices[:limit]]


@dataclass(frozen=True)
class RenewalFacts:
    reference: str
    bill_number: str  # "" when the renewal costs nothing
    amount: Decimal


def renew_permit(*, document_number: str, applicant: Any) -> RenewalFacts:
    """Raise and submit the renewal of the caller's own permit; e-services' translated
    `ValidationError` when it is not theirs or cannot be renewed here."""
    application = renew_by_document_number(document_number=document_number, applicant=applicant)
    bill = application.bill
    if bill is None:
        return RenewalFacts(reference=application.reference, bill_number="", amount=ZERO)
    return RenewalFacts(
        reference=application.reference,
        bill_number=bill.number,
        amount=bill_facts(bill).balance,
    )
