"""Reads for revenue reports (the dashboard's are in `dashboard`, a statement's in
`reconciliation`).

Revenue figures come only from the collections summaries, never from payments:
`DailyCollection`, kept per day, stream, ward and channel as payments post
(`services.daily_collections.record_collection`); and, kept from it by the database,
`MonthlyCollection`, the same per month, and `DailyStreamCollection`, per day and stream
only. A report reads whole months from the monthly summary and only the days at either
end of its period (every day, for a report by day) from a daily one: per day and stream
when the report neither groups nor filters by ward or channel, per day, stream, ward and
channel otherwise. Its cost depends on the number of streams, wards and channels, not of
payments (bench/reports/README.md).

Targets: a stream's `annual_target` is for a financial year (July to June). For any
period it is prorated by days: `annual_target x days of the period in that financial
year / days in that financial year`, summed over the years the period touches. Targets
are set per stream for the whole county, so rows of a ward or channel, and any report
filtered to one ward or channel, show no target.

Every read here goes to `replica_alias()`: the read replica when one is configured (a
report may lag the primary by a moment), else the primary (ADR 24).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal, TypeVar

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext as _

from kaunti.core.db_router import replica_alias
from kaunti.core.models import Ward
from kaunti.core.money import ZERO, kes
from kaunti.payments.models import (
    Channel,
    DailyCollection,
    DailyStreamCollection,
    MonthlyCollection,
    RevenueStream,
)
from kaunti.payments.numbering import financial_year

Grouping = Literal["stream", "ward", "channel", "day", "month"]


GROUPINGS: tuple[Grouping, ...] = ("stream", "ward", "channel", "day", "month")


NO_WARD = "-"  # the filter value for collections on bills without a ward


MPESA_CHANNELS = (Channel.MPESA_PAYBILL, Channel.MPESA_STK)


BANK_CHANNELS = (Channel.BANK, Channel.CHEQUE)


MAX_REPORT_DAYS = 366 * 5


def financial_year_bounds(year: int) -> tuple[date, date]:
    """First and last day of the financial year `year` (2026 = 1 July 2026 to 30 June 2027)."""
    return date(year, 7, 1), date(year + 1, 6, 30)


def prorated_target(*, annual: Decimal, start: date, end: date) -> Decimal:
    """The part of an annual target that falls in `start`..`end` (inclusive), by days."""
    if end < start or not annual:
        return ZERO
    total = Decimal(0)
    for year in range(financial_year(start), financial_year(end) + 1):
        year_start, year_end = financial_year_bounds(year)
        overlap = (min(end, year_end) - max(start, year_start)).days + 1
        if overlap > 0:
            total += annual * overlap / ((year_end - year_start).days + 1)
    return kes(total)


def _month_end(day: date) -> date:
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return following - timedelta(days=1)


@dataclass(frozen=True)
class RevenueFilter:
    """What a report covers: a period (inclusive) and, optionally, one stream/ward/channel."""

    start: date
    end: date
    stream_code: str = ""
    ward_code: str = ""  # NO_WARD for collections on bills without a ward
    channel: str = ""

    @property
    def has_targets(self) -> bool:
        return not self.ward_code and not self.channel


@dataclass(frozen=True)
class RevenueRow:
    key: str
    label: str
    amount: Decimal
    count: int
    target: Decimal | None

    @property
    def percent_of_target(self) -> Decimal | None:
        if not self.target:
            return None
        return (self.amount * 100 / self.target).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class RevenueSummary:
    group_by: Grouping
    filter: RevenueFilter
    rows: list[RevenueRow]
    total_amount: Decimal
    total_count: int
    total_target: Decimal | None

    @property
    def percent_of_target(self) -> Decimal | None:
        if not self.total_target:
            return None
        return (self.total_amount * 100 / self.total_target).quantize(Decimal("0.1"))


def _streams(revenue_filter: RevenueFilter) -> list[RevenueStream]:
    streams = RevenueStream.objects.using(replica_alias()).order_by("name")
    if revenue_filter.stream_code:
        streams = streams.filter(code=revenue_filter.stream_code)
    return list(streams)


def _annual_target(streams: Iterable[RevenueStream]) -> Decimal:
    return sum((stream.annual_target for stream in streams), ZERO)


def _periods(group_by: Grouping, start: date, end: date) -> list[tuple[date, date]]:
    """Every day, or every month, of the period (clipped to it), so empty ones show as 0."""
    periods: list[tuple[date, date]] = []
    current = start if group_by == "day" else start.replace(day=1)
    while current <= end:
        last = current if group_by == "day" else _month_end(current)
        periods.append((max(current, start), min(last, end)))
        current = last + timedelta(days=1)
    return periods


def _whole_months(
    start: date, end: date
) -> tuple[list[tuple[date, date]], tuple[date, date] | None]:
    """Split a period into whole months (first and last month) and the days outside them."""
    first = start if start.day == 1 else _month_end(start) + timedelta(days=1)
    last = end.replace(day=1) if end == _month_end(end) else end.replace(day=1) - timedelta(days=1)
    if first > last:
        return [(start, end)], None
    days = []
    if start < first:
        days.append((start, first - timedelta(days=1)))
    if end > _month_end(last):
        days.append((_month_end(last) + timedelta(days=1), end))
    return days, (first, last.replace(day=1))


_Collection = TypeVar("_Collection", DailyCollection, MonthlyCollection)


def _filtered(
    rows: QuerySet[_Collection], revenue_filter: RevenueFilter, streams: list[RevenueStream]
) -> QuerySet[_Collection]:
    if revenue_filter.stream_code:
        rows = rows.filter(stream_id__in=[stream.pk for stream in streams])
    if revenue_filter.ward_code:
        ward = "" if revenue_filter.ward_code == NO_WARD else revenue_filter.ward_code
        rows = rows.filter(ward_code=ward)
    if revenue_filter.channel:
        rows = rows.filter(channel=revenue_filter.channel)
    return rows


def _needs_wards_or_channels(revenue_filter: RevenueFilter, group_by: Grouping) -> bool:
    """Whether the report groups or filters by ward or channel, which the summary per day
    and stream does not keep."""
    return group_by in ("ward", "channel") or bool(
        revenue_filter.ward_code or revenue_filter.channel
    )


def _totals(
    *, revenue_filter: RevenueFilter, streams: list[RevenueStream], group_by: Grouping
) -> dict[Any, tuple[Decimal, int]]:
    """Amount and count per group: whole months from the monthly summary, the days at
    either end (or every day, for a report by day) from a daily one."""
    days, months = _whole_months(revenue_filter.start, revenue_filter.end)
    if group_by == "day":
        days, months = [(revenue_filter.start, revenue_filter.end)], None
    field = {"stream": "stream_id", "ward": "ward_code", "channel": "channel"}.get(
        group_by, group_by
    )
    reading = replica_alias()
    sources: list[QuerySet[Any]] = []
    if days:
        in_days = Q()
        for first, last in days:
            in_days |= Q(day__gte=first, day__lte=last)
        # A year by day is 685,000 rows per day, stream, ward and channel at most, 5,500 per
        # day and stream; `_filtered` then filters the latter by stream only.
        daily: QuerySet[Any] = (
            DailyCollection.objects.using(reading).filter(in_days)
            if _needs_wards_or_channels(revenue_filter, group_by)
            else DailyStreamCollection.objects.using(reading).filter(in_days)
        )
        daily = _filtered(daily, revenue_filter, streams)
        sources.append(daily.annotate(month=TruncMonth("day")) if group_by == "month" else daily)
    if months:
        monthly = MonthlyCollection.objects.using(reading).filter(
            month__gte=months[0], month__lte=months[1]
        )
        sources.append(_filtered(monthly, revenue_filter, streams))
    totals: dict[Any, tuple[Decimal, int]] = {}
    for source in sources:
        for row in source.values(field).annotate(amount=Sum("amount"), count=Sum("count")):
            amount, count = totals.get(row[field], (ZERO, 0))
            totals[row[field]] = (amount + kes(row["amount"]), count + row["count"])
    return totals


def summarise_revenue(
    *, revenue_filter: RevenueFilter, group_by: Grouping, language: str = "en"
) -> RevenueSummary:
    """Collections in a period grouped by stream, ward, channel, day or month, with targets."""
    if group_by not in GROUPINGS:
        raise ValueError(f"unknown grouping {group_by!r}")
    streams = _streams(revenue_filter)
    totals = _totals(revenue_filter=revenue_filter, streams=streams, group_by=group_by)
    start, end = revenue_filter.start, revenue_filter.end
    with_targets = revenue_filter.has_targets
    rows: list[RevenueRow] = []
    if group_by in ("day", "month"):
        annual = _annual_target(streams)
        for first, last in _periods(group_by, start, end):
            key = first if group_by == "day" else first.replace(day=1)
            amount, count = totals.get(key, (ZERO, 0))
            rows.append(
                RevenueRow(
                    key=key.isoformat() if group_by == "day" else key.strftime("%Y-%m"),
                    label=key.isoformat() if group_by == "day" else key.strftime("%Y-%m"),
                    amount=amount,
                    count=count,
                    target=prorated_target(annual=annual, start=first, end=last)
                    if with_targets
                    else None,
                )
            )
    else:
        if group_by == "stream":
            rows = [
                RevenueRow(
                    key=stream.code,
                    label=stream.display_name(language),
                    amount=totals.get(stream.pk, (ZERO, 0))[0],
                    count=totals.get(stream.pk, (ZERO, 0))[1],
                    target=prorated_target(annual=stream.annual_target, start=start, end=end)
                    if with_targets
                    else None,
                )
                for stream in streams
                if stream.pk in totals or stream.annual_target
            ]
        elif group_by == "ward":
            names = dict(
                Ward.objects.using(replica_alias())
                .filter(code__in=totals)
                .values_list("code", "name")
            )
            rows = [
                RevenueRow(
                    key=code or NO_WARD,
                    label=names.get(code, code) if code else _("No ward"),
                    amount=amount,
                    count=count,
                    target=None,
                )
                for code, (amount, count) in sorted(totals.items())
            ]
        else:
            labels = dict(Channel.choices)
            rows = [
                RevenueRow(
                    key=code,
                    label=str(labels.get(code, code)),
                    amount=amount,
                    count=count,
                    target=None,
                )
                for code, (amount, count) in sorted(totals.items())
            ]
    total_amount = sum((row.amount for row in rows), ZERO)
    total_count = sum(row.count for row in rows)
    total_target = (
        prorated_target(annual=_annual_target(streams), start=start, end=end)
        if with_targets
        else None
    )
    return RevenueSummary(
        group_by=group_by,
        filter=revenue_filter,
        rows=rows,
        total_amount=total_amount,
        total_count=total_count,
        total_target=total_target,
    )


def list_report_choices(*, language: str = "en") -> dict[str, list[tuple[str, str]]]:
    """Streams, wards and channels a report can be filtered by, as (value, label)."""
    reading = replica_alias()
    return {
        "streams": [
            (stream.code, stream.display_name(language))
            for stream in RevenueStream.objects.using(reading).order_by("name")
        ],
        "wards": [
            (NO_WARD, _("No ward")),
            *Ward.objects.using(reading).values_list("code", "name"),
        ],
        "channels": [(value, str(label)) for value, label in Channel.choices],
    }
