"""The monthly penalty on unpaid rates (National Rating Act 2024, s. 20: a penalty on rates
unpaid after the due date, at the rate the county's law sets per month).

A run for a month charges each parcel with overdue rates one penalty bill. Parcels are
charged in batches, as the annual run bills them (`billing_chunks`): one transaction per
batch writes its bills, bill lines and parcel charges, one balanced journal entry
(receivables debited, penalty revenue credited, per ward) and one audit event; then payers
who hold credit have it used on their new bills. It is idempotent per (parcel, month): the
charge's unique key and the bill's source reference are both per month, batches of the
same month are taken one at a time under a lock, and a run stopped half-way is finished by
running the month again. No penalty is charged for a month whose first day a waiver
campaign covers. Penalties are charged on unpaid rates and arrears only, never on
earlier penalties.
"""

import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.utils.translation import gettext as _

from kaunti.core.bulk import insert_objects
from kaunti.core.language import in_both_languages
from kaunti.core.models import Department
from kaunti.core.money import ZERO, financial_year, format_amount, kes
from kaunti.core.services.audit import record_event
from kaunti.land.models import (
    RATES_SOURCE_TYPE,
    ChargeKind,
    Parcel,
    ParcelCharge,
    RatingYear,
)
from kaunti.land.services.billing import (
    LANDS_DEPARTMENT,
    RATES_PENALTY_STREAM,
    RATES_STREAM,
    payers_for_parcels,
    use_held_credits,
)
from kaunti.land.services.rating import compute_penalty, is_waived
from kaunti.payments.models import Bill, BillStatus, RevenueStream
from kaunti.payments.services.bills import Booking, BulkTerms, NewBill, Payer, raise_bills

OPEN_STATUSES = (BillStatus.OPEN, BillStatus.PARTLY_PAID)
BATCH = 500  # parcels a transaction charges
_MAX_ATTEMPTS = 5  # a batch whose bill numbers collide is drawn again
_MONTH_LOCK_NAMESPACE = 0x50454E41  # "PENA": with the month, the key of a batch's lock

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PenaltyRunResult:
    month: date
    waived: bool
    penalties_charged: int
    amount: Decimal


def penalty_source_ref(*, parcel_id: int, month: date) -> str:
    return f"{parcel_id}:penalty:{month:%Y-%m}"


def _rating_year_for(month: date) -> RatingYear | None:
    return (
        RatingYear.objects.filter(financial_year__lte=financial_year(month))
        .order_by("-financial_year")
        .first()
    )


def _overdue_by_parcel(month: date) -> dict[int, Decimal]:
    rows = (
        ParcelCharge.objects.filter(
            kind__in=[ChargeKind.RATES, ChargeKind.ARREARS],
            bill__status__in=OPEN_STATUSES,
            bill__due_on__lt=month,
        )
        .values("parcel_id")
        .annotate(owed=Sum(F("bill__total") - F("bill__paid")))
        .order_by("parcel_id")
    )
    return {row["parcel_id"]: kes(row["owed"]) for row in rows if row["owed"] and row["owed"] > 0}


def _penalty_stream() -> RevenueStream:
    """The stream penalties are billed under: their own, or, on a county whose price list
    was loaded before it had one, the rates' (said in the log, so it can be reloaded)."""
    streams = RevenueStream.objects.select_related("account")
    stream = streams.filter(code=RATES_PENALTY_STREAM).first()
    if stream is not None:
        return stream
    logger.warning(
        "the price list has no %s stream: penalties are billed as land rates", RATES_PENALTY_STREAM
    )
    stream = streams.filter(code=RATES_STREAM).first()
    if stream is None:
        raise ValidationError(_("The land rates revenue stream is not in the price list."))
    return stream


def apply_monthly_penalties(*, month: date, actor: Any | None) -> PenaltyRunResult:
    """Charge the month's penalty on every parcel with rates unpaid after their due date.

    `month` is any day of the month; penalties are dated its first day.
    """
    month = month.replace(day=1)
    if is_waived(on=month):
        record_event(
            actor=actor,
            action="land.penalties_waived",
            target_type="land.penalty_month",
            target_id=f"{month:%Y-%m}",
            data={"month": f"{month:%Y-%m}"},
        )
        return PenaltyRunResult(month, True, 0, ZERO)
    rating_year = _rating_year_for(month)
    if rating_year is None:
        raise ValidationError(_("Set the rating terms before charging penalties."))
    percent = rating_year.penalty_percent_per_month
    month_run = _MonthRun(
        month=month,
        percent=percent,
        department=Department.objects.get(code=LANDS_DEPARTMENT),
        stream=_penalty_stream(),
        actor=actor,
    )
    overdue = _overdue_by_parcel(month)
    charged, total = 0, ZERO
    parcel_ids = sorted(overdue)
    for start in range(0, len(parcel_ids), BATCH):
        batch = {pid: overdue[pid] for pid in parcel_ids[start : start + BATCH]}
        count, amount = _charge_batch(month_run, batch)
        charged += count
        total += amount
    use_held_credits(
        Bill.objects.filter(land_charge__kind=ChargeKind.PENALTY, land_charge__period=month),
        actor=actor,
    )
    record_event(
        actor=actor,
        action="land.penalties_charged",
        target_type="land.penalty_month",
        target_id=f"{month:%Y-%m}",
        data={"month": f"{month:%Y-%m}", "count": charged, "amount": total, "percent": percent},
    )
    return PenaltyRunResult(month, False, charged, total)


@dataclass(frozen=True)
class _MonthRun:
    month: date
    percent: Decimal
    department: Department
    stream: RevenueStream
    actor: Any | None


def _charge_batch(run: _MonthRun, overdue: dict[int, Decimal]) -> tuple[int, Decimal]:
    """Charge the month's penalty on a batch of parcels (parcel id -> what it owes) in
    one transaction; how many were charged and for how much. A bill-number collision
    rolls the batch back, and it is drawn again."""
    for attempt in range(_MAX_ATTEMPTS):
        try:
            with transaction.atomic():
                return _write_batch(run, overdue)
        except IntegrityError:
            if attempt == _MAX_ATTEMPTS - 1:
                raise
    raise IntegrityError("could not charge the batch")  # pragma: no cover  (the loop raises)


def _write_batch(run: _MonthRun, overdue: dict[int, Decimal]) -> tuple[int, Decimal]:
    month = run.month
    if connection.vendor == "postgresql":
        # Two runs of the same month take its batches one at a time, each seeing what
        # the other committed (the charge's unique key would refuse a double anyway).
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)",
                [_MONTH_LOCK_NAMESPACE, month.year * 100 + month.month],
            )
    charged = set(
        ParcelCharge.objects.filter(
            kind=ChargeKind.PENALTY, period=month, parcel_id__in=list(overdue)
        ).values_list("parcel_id", flat=True)
    )
    due = {
        parcel_id: amount
        for parcel_id, owed in overdue.items()
        if parcel_id not in charged
        and (amount := compute_penalty(arrears=owed, percent_per_month=run.percent)) > 0
    }
    if not due:
        return 0, ZERO
    parcels = Parcel.objects.only("number", "ward_id").in_bulk(list(due))
    payers = payers_for_parcels(list(due))
    new = []
    for parcel_id, amount in due.items():
        parcel = parcels[parcel_id]
        owner = payers.get(parcel_id)
        (bill_text, bill_text_sw), (line_text, line_text_sw) = _penalty_texts(
            month=month,
            parcel_number=parcel.number,
            percent=run.percent,
            arrears=overdue[parcel_id],
        )
        new.append(
            NewBill(
                payer=Payer(owner.name, owner.phone, owner.id_number, owner.kra_pin)
                if owner
                else Payer(parcel.number),
                amount=amount,
                ward_id=parcel.ward_id,
                description=bill_text,
                description_sw=bill_text_sw,
                source_ref=penalty_source_ref(parcel_id=parcel_id, month=month),
                line_description=line_text,
                line_description_sw=line_text_sw,
            )
        )
    first, last = min(due), max(due)
    total = sum(due.values(), ZERO)
    bills = raise_bills(
        new,
        terms=BulkTerms(
            department=run.department,
            stream=run.stream,
            due_on=month,
            source_type=RATES_SOURCE_TYPE,
            actor=run.actor,
        ),
        booking=Booking(
            memo=f"Land rates penalties {month:%m/%Y}: {len(due)} bills, parcels {first}-{last}",
            source_type="land.penalty_run",
            source_ref=f"{month:%Y-%m}:{first}-{last}",
        ),
    )
    insert_objects(
        ParcelCharge(
            parcel_id=parcel_id,
            kind=ChargeKind.PENALTY,
            financial_year=financial_year(month),
            period=month,
            bill=bill,
            amount=amount,
        )
        for (parcel_id, amount), bill in zip(due.items(), bills, strict=True)
    )
    record_event(
        actor=run.actor,
        action="land.penalties_billed",
        target_type="land.penalty_month",
        target_id=f"{month:%Y-%m}",
        data={
            "month": f"{month:%Y-%m}",
            "bills": len(due),
            "amount": total,
            "parcels": [first, last],
        },
    )
    return len(due), total


def _penalty_texts(
    *, month: date, parcel_number: str, percent: Decimal, arrears: Decimal
) -> tuple[tuple[str, str], tuple[str, str]]:
    """A penalty bill's description and its line's, each in English and Kiswahili (ADR 15)."""
    bill = in_both_languages(
        lambda: (
            _("Penalty on land rates, %(month)s, %(parcel)s")
            % {"month": f"{month:%m/%Y}", "parcel": parcel_number}
        )
    )
    line = in_both_languages(
        lambda: (
            _("Penalty %(percent)s%% on KES %(arrears)s unpaid, %(month)s")
            % {"percent": percent, "arrears": format_amount(arrears), "month": f"{month:%m/%Y}"}
        )
    )
    return bill, line
