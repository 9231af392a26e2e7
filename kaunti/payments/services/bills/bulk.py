"""Raising many bills of one line at once, for another app's run (a month's rates
penalties, the year's rates where PostgreSQL cannot compute them: see `query`).

Unlike `create_bill`, a bulk raising books ONE journal entry for all its bills
(receivables debited, the stream's revenue credited, ward by ward) under the caller's
memo and source, records no audit event per bill (the caller records one for the whole
run), and does not use the payers' credit: the caller does that once its run is done
(`apply_payer_credits`), as a run takes its bills in many transactions.

A drawn bill number already taken fails the whole raising (`IntegrityError`, from the
unique constraint): the caller's transaction rolls back and is tried again.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from kaunti.core.bulk import insert_objects
from kaunti.core.models import Department
from kaunti.core.money import ZERO
from kaunti.ledger import services as ledger
from kaunti.payments.models import Bill, BillLine, RevenueStream
from kaunti.payments.numbering import new_bill_numbers
from kaunti.payments.services.bills.base import RECEIVABLES, Payer, new_bill


@dataclass(frozen=True)
class BulkTerms:
    """What every bill of a bulk raising shares. `stream` comes with its `account`."""

    department: Department
    stream: RevenueStream
    due_on: date
    source_type: str
    actor: Any | None


@dataclass(frozen=True)
class Booking:
    """The journal entry that books a bulk raising: its memo and its source."""

    memo: str
    source_type: str
    source_ref: str


@dataclass(frozen=True)
class NewBill:
    """One bill of one line, for its whole amount, of the raising's stream."""

    payer: Payer
    amount: Decimal
    ward_id: int | None
    description: str
    description_sw: str
    source_ref: str
    line_description: str = ""  # empty: the stream's names
    line_description_sw: str = ""


def raise_bills(bills: Sequence[NewBill], *, terms: BulkTerms, booking: Booking) -> list[Bill]:
    """Raise the bills in the caller's transaction and book them; the saved bills (with
    their ids and numbers), in the order given. Payer names are cut to the column's 150
    characters."""
    if not bills:
        return []
    raised = [
        new_bill(
            number=number,
            payer=_fitted(item.payer),
            department=terms.department,
            ward_id=item.ward_id,
            description=item.description,
            description_sw=item.description_sw,
            due_on=terms.due_on,
            total=item.amount,
            source_type=terms.source_type,
            source_ref=item.source_ref,
            actor=terms.actor,
        )
        for item, number in zip(bills, new_bill_numbers(len(bills)), strict=True)
    ]
    insert_objects(raised)
    insert_objects(
        _line(bill, item, terms.stream) for bill, item in zip(raised, bills, strict=True)
    )
    by_ward: dict[int | None, Decimal] = {}
    for item in bills:
        by_ward[item.ward_id] = by_ward.get(item.ward_id, ZERO) + item.amount
    book_raised(by_ward, terms=terms, booking=booking)
    return raised


def book_raised(by_ward: dict[int | None, Decimal], *, terms: BulkTerms, booking: Booking) -> None:
    """Book bills raised in bulk (ward id -> amount billed there) in one entry: receivables
    debited and the stream's revenue account credited, ward by ward."""
    revenue = terms.stream.account.code
    lines = []
    for ward_id, amount in sorted(by_ward.items(), key=lambda item: (item[0] is None, item[0])):
        lines.append(ledger.Line(RECEIVABLES, debit=amount, ward_id=ward_id))
        lines.append(ledger.Line(revenue, credit=amount, ward_id=ward_id))
    ledger.post_entry(
        lines=lines,
        memo=booking.memo,
        source_type=booking.source_type,
        source_ref=booking.source_ref,
        actor=terms.actor,
    )


def _fitted(payer: Payer) -> Payer:
    if len(payer.name) <= 150:
        return payer
    return Payer(payer.name[:150], payer.phone, payer.id_number, payer.kra_pin, payer.user)


def _line(bill: Bill, item: NewBill, stream: RevenueStream) -> BillLine:
    named = bool(item.line_description)
    return BillLine(
        bill=bill,
        stream=stream,
        description=(item.line_description if named else stream.name)[:200],
        description_sw=(item.line_description_sw if named else stream.name_sw)[:200],
        quantity=Decimal(1),
        unit_price=item.amount,
        amount=item.amount,
    )
