"""Raising and cancelling bills (ARCHITECTURE.md, "The money path": the first step)."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kaunti.core.audit import Event, audited_transaction, record_event, record_events
from kaunti.core.bulk import insert_objects, update_objects
from kaunti.core.identifiers import normalise_kra_pin, normalise_national_id, normalise_phone
from kaunti.core.models import Department, Ward
from kaunti.core.money import ZERO, kes
from kaunti.ledger import selectors as ledger_selectors
from kaunti.ledger import services as ledger
from kaunti.payments.models import (
    Allocation,
    Bill,
    BillCancellation,
    BillLine,
    BillStatus,
    Channel,
    PayerCredit,
    RevenueStream,
)
from kaunti.payments.numbers import new_bill_number
from kaunti.payments.services.collections import (
    CollectionTotals,
    add_collections,
    save_collections,
    status_for,
)
from kaunti.payments.settlement import settle

RECEIVABLES = "1200"
PAYER_CREDITS = "2200"


@dataclass(frozen=True)
class Payer:
    name: str
    phone: str = ""
    id_number: str = ""
    kra_pin: str = ""
    user: Any | None = None


@dataclass(frozen=True)
class LineInput:
    stream_code: str
    quantity: Decimal = Decimal(1)
    unit_price: Decimal | None = None  # None: the stream's price-list price
    description: str = ""
    description_sw: str = ""  # empty: the stream's Kiswahili name when `description` is


def payer_key_for(payer: Payer) -> str:
    """The identity a payer's credit is kept under: ID number, else KRA PIN, else phone."""
    if payer.id_number:
        return f"id:{payer.id_number}"
    if payer.kra_pin:
        return f"pin:{payer.kra_pin}"
    if payer.phone:
        return f"phone:{payer.phone}"
    return f"name:{payer.name.strip().lower()[:34]}"


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


def credit_balance(*, payer_key: str) -> Decimal:
    """What a payer holds in credit. Rounded to the cent: SQLite sums decimals as floats,
    so 0.79 - 0.72 comes back as 0.0700000000000001 (and a zero as a tiny positive)."""
    total = PayerCredit.objects.filter(payer_key=payer_key).aggregate(total=Sum("amount"))["total"]
    return kes(total or ZERO)


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
    # The payer's credit pays first: hold it before the audit chain (`lock_payer_credit`).
    holds_credit = lock_payer_credit([payer_key_for(payer)])
    priced = _price_lines(lines)
    total = sum((line.amount for line in priced), ZERO)
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    for _attempt in range(5):
        try:
            with transaction.atomic():
                bill = Bill.objects.create(
                    number=new_bill_number(),
                    payer_name=payer.name,
                    payer_phone=payer.phone,
                    payer_id_number=payer.id_number,
                    payer_kra_pin=payer.kra_pin,
                    payer_key=payer_key_for(payer),
                    payer_user=payer.user,
                    department=department,
                    ward=ward,
                    description=description[:200],
                    description_sw=description_sw[:200],
                    due_on=due_on,
                    total=total,
                    source_type=source_type,
                    source_ref=source_ref,
                    created_by=user,
                )
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
        _use_payer_credit([bill], actor=actor)
    return bill


def payer_keys_with_credit() -> QuerySet[PayerCredit, str]:
    """The payers who hold credit (from overpayments) not yet used on a bill: a query, to
    filter bills by in the database (`payer_key__in=`) however many they are."""
    return (
        PayerCredit.objects.values("payer_key")
        .annotate(total=Sum("amount"))
        .filter(total__gt=ZERO)
        .values_list("payer_key", flat=True)
    )


def apply_payer_credit(*, bill: Bill, actor: Any | None) -> Decimal:
    """Use the payer's credit on a bill raised without it. Returns the amount used."""
    return apply_payer_credits(bill_ids=[bill.pk], actor=actor)


@audited_transaction()
def apply_payer_credits(*, bill_ids: Sequence[int], actor: Any | None) -> Decimal:
    """Use what the bills' payers hold in credit on bills raised without it, in the order
    given (bills raised in bulk, like the year's land rates, skip the step `create_bill`
    takes). A few hundred bills at a time is one transaction of a dozen statements.
    Returns the amount used."""
    order = {bill_id: position for position, bill_id in enumerate(bill_ids)}
    locked = list(  # in key order, as every writer of bills locks them
        Bill.objects.select_for_update(of=("self",))
        .select_related("ward")
        .filter(pk__in=list(order))
        .order_by("pk")
    )
    locked.sort(key=lambda bill: order[bill.pk])
    return _use_payer_credit(
        [bill for bill in locked if bill.status in (BillStatus.OPEN, BillStatus.PARTLY_PAID)],
        actor=actor,
    )


# Two-key advisory locks (a space apart from the one-key locks of the audit chain and
# the billing runs): this class, and a hash of the payer's key.
_PAYER_CREDIT_LOCK_CLASS = 18_0001


def _credit_held(payer_keys: Sequence[str]) -> dict[str, Decimal]:
    """What each payer holds in credit (only those who hold any)."""
    totals = (
        PayerCredit.objects.filter(payer_key__in=payer_keys)
        .values("payer_key")
        .annotate(total=Sum("amount"))
        .values_list("payer_key", "total")
    )
    held = {key: kes(total) for key, total in totals}  # kes: SQLite sums as floats
    return {key: amount for key, amount in held.items() if amount > 0}


def lock_payer_credit(payer_keys: Collection[str]) -> bool:
    """Hold the credit of these payers until the transaction ends, if any of them holds
    some (False, and nothing locked, when none does). Whoever spends or takes back credit
    holds it first, so that two transactions cannot both spend the same shillings.

    Taken before the audit chain's lock, never after: `create_bill` takes it before
    writing anything; keys in sorted order (unnest keeps the array's), so two holders
    never wait for each other crosswise."""
    keys = sorted(set(payer_keys))
    if not _credit_held(keys):
        return False
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_advisory_xact_lock(%s, hashtext(key)))"
                " FROM unnest(%s::text[]) AS key",
                [_PAYER_CREDIT_LOCK_CLASS, keys],
            )
    return True


def _use_payer_credit(bills: Sequence[Bill], *, actor: Any | None) -> Decimal:
    """Use payers' credit (from earlier overpayments) on open bills the caller has locked
    or just raised, in order, each up to its balance: per bill a credit movement, an
    allocation, a journal entry (payer credits to receivables), the day's collections by
    its lines and an audit link; a bill paid in full is settled."""
    payer_keys = sorted({bill.payer_key for bill in bills})
    if not lock_payer_credit(payer_keys):
        return ZERO
    available = _credit_held(payer_keys)  # again, now that no one else may spend it
    used: list[tuple[Bill, Decimal]] = []
    for bill in bills:
        amount = min(available.get(bill.payer_key, ZERO), bill.total - bill.paid)
        if amount > 0:
            available[bill.payer_key] -= amount
            used.append((bill, amount))
    if not used:
        return ZERO
    spent = insert_objects(
        PayerCredit(payer_key=bill.payer_key, amount=-amount, bill=bill) for bill, amount in used
    )
    insert_objects(Allocation(bill=bill, amount=amount, from_credit=True) for bill, amount in used)
    for bill, amount in used:
        bill.paid += amount
        bill.status = status_for(total=bill.total, paid=bill.paid)
    update_objects([bill for bill, _amount in used], ["paid", "status"])
    ledger.post_entries(
        [
            ledger.Posting(
                lines=[
                    ledger.Line(PAYER_CREDITS, debit=amount),
                    ledger.Line(RECEIVABLES, credit=amount),
                ],
                memo=f"Credit applied to bill {bill.number}",
                source_type="credit",
                source_ref=f"{bill.number}/{credit.pk}",  # a bill may take credit more than once
            )
            for (bill, amount), credit in zip(used, spent, strict=True)
        ],
        actor=actor,
    )
    lines: dict[int, list[BillLine]] = {bill.pk: [] for bill, _amount in used}
    for line in BillLine.objects.filter(bill_id__in=list(lines)).order_by("bill_id", "pk"):
        lines[line.bill_id].append(line)
    today = timezone.localdate()
    totals: CollectionTotals = {}
    for bill, amount in used:
        add_collections(
            totals,
            bill=bill,
            lines=lines[bill.pk],
            amount=amount,
            channel=Channel.CREDIT,
            day=today,
        )
    save_collections(totals)
    record_events(
        [
            Event(
                actor=actor, action="payments.credit_applied", target=bill, data={"amount": amount}
            )
            for bill, amount in used
        ]
    )
    for bill, _amount in used:
        if bill.status == BillStatus.PAID:
            settle(bill)
    return sum((amount for _bill, amount in used), ZERO)


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
