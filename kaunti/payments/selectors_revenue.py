"""The revenue report: collections between two dates, grouped one way, from DailyCollection.

DailyCollection is kept as payments are allocated (`record_collection`), so the report
reads a few hundred summary rows instead of every payment. It counts money allocated to
bills, per revenue stream; an overpayment counts when a later bill uses it (channel
"credit"), and a payment in suspense when it is assigned to a bill.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from django.db.models import Sum
from django.db.models.functions import TruncMonth

from kaunti.core.money import ZERO
from kaunti.core.selectors import list_wards
from kaunti.payments.models import Channel, DailyCollection

RevenueGrouping = Literal["stream", "ward", "channel", "day", "month"]
GROUPINGS: tuple[RevenueGrouping, ...] = ("stream", "ward", "channel", "day", "month")


@dataclass(frozen=True)
class RevenueRow:
    key: str
    name: str
    amount: Decimal
    count: int


@dataclass(frozen=True)
class RevenueReport:
    date_from: date
    date_to: date
    group_by: RevenueGrouping
    rows: list[RevenueRow]

    @property
    def total(self) -> Decimal:
        return sum((row.amount for row in self.rows), ZERO)

    @property
    def count(self) -> int:
        return sum(row.count for row in self.rows)


def get_revenue_report(
    *, date_from: date, date_to: date, group_by: RevenueGrouping
) -> RevenueReport:
    """Collections from `date_from` to `date_to` (both included), one row per group."""
    if group_by not in GROUPINGS:
        raise ValueError(f"group_by must be one of {GROUPINGS}, not {group_by!r}")
    days = DailyCollection.objects.filter(day__gte=date_from, day__lte=date_to)
    totals = {"amount": Sum("amount"), "count": Sum("count")}
    rows: list[RevenueRow] = []
    if group_by == "stream":
        for item in (
            days.values("stream__code", "stream__name").annotate(**totals).order_by("stream__code")
        ):
            rows.append(_row(item["stream__code"], item["stream__name"], item))
    elif group_by == "ward":
        names = dict(list_wards().values_list("code", "name"))
        for item in days.values("ward_code").annotate(**totals).order_by("ward_code"):
            code = item["ward_code"]
            rows.append(_row(code, names.get(code, code) if code else "No ward", item))
    elif group_by == "channel":
        labels = dict(Channel.choices)
        for item in days.values("channel").annotate(**totals).order_by("channel"):
            rows.append(_row(item["channel"], str(labels.get(item["channel"], "")), item))
    elif group_by == "day":
        for item in days.values("day").annotate(**totals).order_by("day"):
            rows.append(_row(item["day"].isoformat(), f"{item['day']:%d %b %Y}", item))
    else:
        months = days.annotate(month=TruncMonth("day")).values("month")
        for item in months.annotate(**totals).order_by("month"):
            rows.append(_row(f"{item['month']:%Y-%m}", f"{item['month']:%B %Y}", item))
    return RevenueReport(date_from=date_from, date_to=date_to, group_by=group_by, rows=rows)


def _row(key: str, name: str, item: dict[str, object]) -> RevenueRow:
    amount = item["amount"]
    count = item["count"]
    return RevenueRow(
        key=key,
        name=name,
        amount=amount if isinstance(amount, Decimal) else ZERO,
        count=count if isinstance(count, int) else 0,
    )
