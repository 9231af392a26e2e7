"""Raising one bill, and cancelling a bill (ARCHITECTURE.md, "The money path": the first
step). Bills raised many at once are `bulk`'s and `query`'s."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kaunti.core.identifiers import normalise_kra_pin, normalise_national_id, normalise_phone
from kaunti.core.models import Department, Ward
from kaunti.core.money import ZERO, kes
from kaunti.core.services.audit import audited_transaction, record_event
from kaunti.ledger import selectors as ledger_selectors
from kaunti.ledger import services as ledger
from kaunti.payments.models import Bill, BillCancellation, BillLine, BillStatus, RevenueStream
from kaunti.payments.numbering import new_bill_number
from kaunti.payments.services.bills.base import RECEIVABLES, Payer, new_bill, payer_key_for
from kaunti.payments.services.bills.credit import lock_payer_credit, use_payer_credit


@dataclass(frozen=True)
class LineInput:
    stream_code: str
    quantity: Decimal = Decimal(1)
    unit_price: Decimal | None = None  # None: the stream's price-list price
    description: str = ""
    description_sw: str = ""  # empty: the stream's Kiswahili name when `description` is


def _clean_payer(payer: Payer) -> Payer:
    errors: dict[str, list[str]] = {}
    name = " ".join(payer.name.split())
    if not name:
        errors["payer_name"] = [_("Enter the payer's name.")]
    cleaned: dict[str, str] = {"phone": "", "id_number": "", "kra_pin": ""}
    for field, value, check in (
        ("phone", payer.phone, normalise_phone),
        ("id_number", payer.id_number, normalise_national_id),
        ("kra_pin", payer.kra_pin, normalise_kra_pin),
    ):
        if value and value.strip():
            try:
                cleaned[field] = check(value)
            except ValidationError as exc:
                errors[f"payer_{field}"] = exc.messages
    if errors:
        raise ValidationError(errors)
    return Payer(name=name, user=payer.user, **cleaned)


def _price_lines(lines: Sequence[LineInput]) -> list[BillLine]:
    if not lines:
        raise ValidationError(_("A bill needs at least one line."))
    streams = {
        s.code: s
        for s in RevenueStream.objects.filter(code__in={line.stream_code for line in lines})
    }
    priced = []
    for line in lines:
        stream = streams.get(line.stream_code)
        if stream is None or not stream.is_active:
            raise ValidationError(
                _("Unknown revenue stream: %(code)s") % {"code": line.stream_code}
            )
        unit_price = line.unit_price if line.unit_price is not None else stream.unit_price
        if unit_price is None:
            raise ValidationError(
                _("Enter a price for %(name)s.") % {"name": stream.localized_name}
            )
        quantity = Decimal(line.quantity)
        amount = kes(quantity * kes(unit_price))
        if quantity <= 0 or amount <= 0:
            raise ValidationError(_("Each line must be for more than KES 0."))
        priced.append(
            BillLine(
                stream=stream,
                description=(line.description or stream.name)[:200],
                description_sw=(
                    line.description_sw
                    if line.description
                    else line.description_sw or stream.name_sw
                )[:200],
                quantity=quantity,
                unit_price=kes(unit_price),
                amount=amount,
            )
        )
    return priced


@audited_transaction()
def create_bill(
    *,
    payer: Payer,
    lines: Sequence[LineInput],
    department: Department,
    due_on: date,
    description: str,
    actor: Any | None,
    ward: Ward | None = None,
    source_type: str = "",
    source_ref: str = "",
    description_sw: str = "",
) -> Bill:
    """Raise a bill: receivable and revenue are booked now; any credit the payer holds pays first.

    A live bill per (source_type, source_ref) at most: asking again for the same source
    returns the bill already raised instead of a second one.
    """
    if source_type:
        existing = Bill.objects.filter(source_type=source_type, source_ref=source_ref).exclude(
            status=BillStatus.CANCELLED
        )
        if (bill := existing.first()) is not None:
            return bill
    payer = _clean_payer(payer)
    # The payer's credit pays first: hold it before writing anything (`lock_payer_credit`).
    holds_credit = lock_payer_credit([payer_key_for(payer)])
    priced = _price_lines(lines)
    total = sum((line.amount for line in priced), ZERO)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                bill = new_bill(
                    number=new_bill_number(),
                    payer=payer,
                    department=department,
                    ward_id=ward.pk if ward else None,
                    description=description,
                    description_sw=description_sw,
                    due_on=due_on,
                    total=total,
                    source_type=source_type,
                    source_ref=source_ref,
                    actor=actor,
                )
                bill.ward = ward  # read again by the collections of any credit used
                bill.save(force_insert=True)
            break
        except IntegrityError:
            if (
                source_type
                and Bill.objects.filter(source_type=source_type, source_ref=source_ref)
                .exclude(status=BillStatus.CANCELLED)
                .exists()
            ):
                raise
            continue  # a bill-number collision: draw another
    else:
        raise IntegrityError("could not draw a free bill number")
    for line in priced:
        line.bill = bill
    BillLine.objects.bulk_create(priced)
    by_account: dict[str, Decimal] = {}
    for line in priced:
        by_account[line.stream.account.code] = (
            by_account.get(line.stream.account.code, ZERO) + line.amount
        )
    ward_id = ward.pk if ward else None
    ledger.post_entry(
        lines=[ledger.Line(RECEIVABLES, debit=total, ward_id=ward_id)]
        + [
            ledger.Line(code, credit=amount, ward_id=ward_id) for code, amount in by_account.items()
        ],
        memo=f"Bill {bill.number}: {bill.description}",
        source_type="bill",
        source_ref=bill.number,
        actor=actor,
    )
    record_event(
        actor=actor,
        action="payments.bill_raised",
        target=bill,
        data={"number": bill.number, "total": total, "source": [source_type, source_ref]},
    )
    if holds_credit:
        use_payer_credit([bill], actor=actor)
    return bill


def _cancellation_lines(bill: Bill) -> list[ledger.Line]:
    """The mirror of what raising the bill booked: revenue per stream back out of receivables."""
    by_account: dict[str, Decimal] = {}
    for line in bill.lines.select_related("stream__account"):
        code = line.stream.account.code
        by_account[code] = by_account.get(code, ZERO) + line.amount
    return [
        ledger.Line(code, debit=amount, ward_id=bill.ward_id) for code, amount in by_account.items()
    ] + [ledger.Line(RECEIVABLES, credit=bill.total, ward_id=bill.ward_id)]


@transaction.atomic
def cancel_bill(*, bill: Bill, reason: str, actor: Any) -> BillCancellation:
    """Withdraw a bill nothing has been paid on; its raising entry is reversed."""
    locked = Bill.objects.select_for_update().get(pk=bill.pk)
    if locked.status == BillStatus.CANCELLED:
        raise ValidationError(_("This bill is already cancelled."))
    if locked.paid > 0:
        raise ValidationError(
            _("A bill with payments cannot be cancelled; cancel its receipts first.")
        )
    if not reason.strip():
        raise ValidationError(_("Give the reason for cancelling."))
    memo = f"Bill {locked.number} cancelled: {reason}"[:255]
    if ledger_selectors.entry_exists_for_source(source_type="bill", source_ref=locked.number):
        entry = ledger_selectors.get_entry_for_source(source_type="bill", source_ref=locked.number)
        reversal = ledger.reverse_entry(entry=entry, memo=memo, actor=actor)
    else:
        # Raised in bulk (e.g. the year's land rates), its revenue was booked in one entry
        # with many other bills: take back this bill's own lines.
        reversal = ledger.post_entry(
            lines=_cancellation_lines(locked),
            memo=memo,
            source_type="bill",
            source_ref=f"{locked.number}/cancelled",
            actor=actor,
        )
    locked.status = BillStatus.CANCELLED
    locked.save(update_fields=["status"])
    cancellation = BillCancellation.objects.create(
        bill=locked, reason=reason.strip()[:255], cancelled_by=actor, reversal_entry=reversal
    )
    record_event(
        actor=actor, action="payments.bill_cancelled", target=locked, data={"reason": reason}
    )
    return cancellation
