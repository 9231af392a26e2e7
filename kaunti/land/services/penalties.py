"""The monthly penalty on unpaid rates (National Rating Act 2024, s. 20: a penalty on rates
unpaid after the due date, at the rate the county's law sets per month).

A run for a month charges each parcel with overdue rates one penalty bill, through
payments, on the money path. It is idempotent per (parcel, month): the charge's unique key
and the bill's source reference are both per month, and each parcel is its own
transaction, so a run stopped half-way is finished by running the month again. No penalty
is charged for a month whose first day a waiver campaign covers. Penalties are charged on
unpaid rates and arrears only, never on earlier penalties.
"""

import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils.translation import gettext as _

from kaunti.core.audit import record_event
from kaunti.core.models import Department
from kaunti.core.money import ZERO, kes
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
)
from kaunti.land.services.rating import compute_penalty, is_waived
from kaunti.payments.models import BillStatus, RevenueStream
from kaunti.payments.numbers import financial_year
from kaunti.payments.services.bills import LineInput, Payer, create_bill

OPEN_STATUSES = (BillStatus.OPEN, BillStatus.PARTLY_PAID)

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


def _penalty_stream() -> str:
    """The stream penalties are billed under: their own, or, on a county whose price list
    was loaded before it had one, the rates' (said in the log, so it can be reloaded)."""
    if RevenueStream.objects.filter(code=RATES_PENALTY_STREAM).exists():
        return RATES_PENALTY_STREAM
    logger.warning(
        "the price list has no %s stream: penalties are billed as land rates", RATES_PENALTY_STREAM
    )
    return RATES_STREAM


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
    department = Department.objects.get(code=LANDS_DEPARTMENT)
    stream = _penalty_stream()
    overdue = _overdue_by_parcel(month)
    already = set(
        ParcelCharge.objects.filter(kind=ChargeKind.PENALTY, period=month).values_list(
            "parcel_id", flat=True
        )
    )
    charged, total = 0, ZERO
    parcel_ids = [pid for pid in overdue if pid not in already]
    for start in range(0, len(parcel_ids), 500):
        batch = parcel_ids[start : start + 500]
        parcels = Parcel.objects.in_bulk(batch)
        payers = payers_for_parcels(batch)
        for parcel_id in batch:
            amount = compute_penalty(arrears=overdue[parcel_id], percent_per_month=percent)
            if amount <= 0:
                continue
            if _charge_penalty(
                parcel=parcels[parcel_id],
                month=month,
                amount=amount,
                arrears=overdue[parcel_id],
                percent=percent,
                payer=payers.get(parcel_id),
                department=department,
                stream=stream,
                actor=actor,
            ):
                charged += 1
                total += amount
    record_event(
        actor=actor,
        action="land.penalties_charged",
        target_type="land.penalty_month",
        target_id=f"{month:%Y-%m}",
        data={"month": f"{month:%Y-%m}", "count": charged, "amount": total, "percent": percent},
    )
    return PenaltyRunResult(month, False, charged, total)


@transaction.atomic
def _charge_penalty(
    *,
    parcel: Parcel,
    month: date,
    amount: Decimal,
    arrears: Decimal,
    percent: Decimal,
    payer: Any | None,
    department: Department,
    stream: str,
    actor: Any | None,
) -> bool:
    # The parcel row is locked so two runs of the same month cannot both charge it.
    Parcel.objects.select_for_update().filter(pk=parcel.pk).first()
    if ParcelCharge.objects.filter(parcel=parcel, kind=ChargeKind.PENALTY, period=month).exists():
        return False
    bill = create_bill(
        payer=Payer(
            name=payer.name if payer else parcel.number,
            phone=payer.phone if payer else "",
            id_number=payer.id_number if payer else "",
            kra_pin=payer.kra_pin if payer else "",
        ),
        lines=[
            LineInput(
                stream_code=stream,
                unit_price=amount,
                description=_("Penalty %(percent)s%% on KES %(arrears)s unpaid, %(month)s")
                % {"percent": percent, "arrears": arrears, "month": f"{month:%m/%Y}"},
            )
        ],
        department=department,
        due_on=month,
        description=_("Penalty on land rates, %(month)s, %(parcel)s")
        % {"month": f"{month:%m/%Y}", "parcel": parcel.number},
        actor=actor,
        ward=parcel.ward,
        source_type=RATES_SOURCE_TYPE,
        source_ref=penalty_source_ref(parcel_id=parcel.pk, month=month),
    )
    ParcelCharge.objects.create(
        parcel=parcel,
        kind=ChargeKind.PENALTY,
        financial_year=financial_year(month),
        period=month,
        bill=bill,
        amount=bill.total,
    )
    return True
