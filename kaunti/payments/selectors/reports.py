"""Reads for revenue reports, the revenue dashboard and reconciliation results.

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
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal, TypeVar
from uuid import UUID

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from kaunti.core.models import Ward
from kaunti.core.money import ZERO, kes
from kaunti.payments.models import (
    Channel,
    DailyCollection,
    DailyStreamCollection,
    MatchStatus,
    MonthlyCollection,
    Payment,
    RevenueStream,
    StatementImport,
    StatementKind,
    StatementLine,
)
from kaunti.payments.numbering import financial_year

Grouping = Literal["stream", "ward", "channel", "day", "month"]
GROUPINGS: tuple[Grouping, ...] = ("stream", "ward", "channel", "day", "month")
NO_WARD = "-"  # the filter value for collections on bills without a ward
MPESA_CHANNELS = (Channel.MPESA_PAYBILL, Channel.MPESA_STK)
BANK_CHANNELS = (Channel.BANK, Channel.CHEQUE)
MAX_REPORT_DAYS = 366 * 5


# --- Targets ------------------------------------------------------------------------------


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


# --- The revenue summary ------------------------------------------------------------------


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
    streams = RevenueStream.objects.order_by("name")
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
    sources: list[QuerySet[Any]] = []
    if days:
        in_days = Q()
        for first, last in days:
            in_days |= Q(day__gte=first, day__lte=last)
        # A year by day is 685,000 rows per day, stream, ward and channel at most, 5,500 per
        # day and stream; `_filtered` then filters the latter by stream only.
        daily: QuerySet[Any] = (
            DailyCollection.objects.filter(in_days)
            if _needs_wards_or_channels(revenue_filter, group_by)
            else DailyStreamCollection.objects.filter(in_days)
        )
        daily = _filtered(daily, revenue_filter, streams)
        sources.append(daily.annotate(month=TruncMonth("day")) if group_by == "month" else daily)
    if months:
        monthly = MonthlyCollection.objects.filter(month__gte=months[0], month__lte=months[1])
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
            names = dict(Ward.objects.filter(code__in=totals).values_list("code", "name"))
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


# --- The dashboard ------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodTotal:
    """Collections in a period against the target for that period (and for the year)."""

    start: date
    end: date
    amount: Decimal
    count: int
    target: Decimal

    @property
    def percent_of_target(self) -> Decimal | None:
        if not self.target:
            return None
        return (self.amount * 100 / self.target).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class RevenueDashboard:
    today: PeriodTotal
    this_month: PeriodTotal
    year_to_date: PeriodTotal
    annual_target: Decimal
    by_month: RevenueSummary
    by_stream: RevenueSummary

    @property
    def percent_of_annual_target(self) -> Decimal | None:
        if not self.annual_target:
            return None
        return (self.year_to_date.amount * 100 / self.annual_target).quantize(Decimal("0.1"))


def get_revenue_dashboard(*, today: date, language: str = "en") -> RevenueDashboard:
    """Today, this month and this financial year to date against target, by month and stream.

    The by-month chart covers the whole financial year (months still to come show their
    target and no collections); the by-stream chart is the year to date against each
    stream's annual target.
    """
    year_start, year_end = financial_year_bounds(financial_year(today))
    by_month = summarise_revenue(
        revenue_filter=RevenueFilter(start=year_start, end=year_end),
        group_by="month",
        language=language,
    )
    to_date = summarise_revenue(
        revenue_filter=RevenueFilter(start=year_start, end=today),
        group_by="stream",
        language=language,
    )
    annual_targets = dict(RevenueStream.objects.values_list("code", "annual_target"))
    annual = sum(annual_targets.values(), ZERO)
    by_stream = RevenueSummary(
        group_by="stream",
        filter=to_date.filter,
        rows=[
            RevenueRow(
                key=row.key,
                label=row.label,
                amount=row.amount,
                count=row.count,
                target=annual_targets[row.key],
            )
            for row in to_date.rows
        ],
        total_amount=to_date.total_amount,
        total_count=to_date.total_count,
        total_target=annual,
    )
    this_month_key = today.strftime("%Y-%m")
    month_row = next(row for row in by_month.rows if row.key == this_month_key)
    month_start = today.replace(day=1)
    today_totals = DailyStreamCollection.objects.filter(day=today).aggregate(
        amount=Sum("amount"), count=Sum("count")
    )
    return RevenueDashboard(
        today=PeriodTotal(
            start=today,
            end=today,
            amount=kes(today_totals["amount"] or ZERO),
            count=today_totals["count"] or 0,
            target=prorated_target(annual=annual, start=today, end=today),
        ),
        this_month=PeriodTotal(
            start=month_start,
            end=today,
            amount=month_row.amount,
            count=month_row.count,
            target=prorated_target(annual=annual, start=month_start, end=today),
        ),
        year_to_date=PeriodTotal(
            start=year_start,
            end=today,
            amount=to_date.total_amount,
            count=to_date.total_count,
            target=prorated_target(annual=annual, start=year_start, end=today),
        ),
        annual_target=annual,
        by_month=by_month,
        by_stream=by_stream,
    )


def chart_data(dashboard: RevenueDashboard) -> dict[str, object]:
    """The dashboard's figures for its charts (rendered with `json_script`), as strings of
    shillings: JSON numbers are floats, and the page's tables carry the exact figures."""
    return {
        "byMonth": {
            "labels": [row.label for row in dashboard.by_month.rows],
            "amounts": [str(row.amount) for row in dashboard.by_month.rows],
            "targets": [str(row.target or ZERO) for row in dashboard.by_month.rows],
        },
        "byStream": {
            "labels": [row.label for row in dashboard.by_stream.rows],
            "amounts": [str(row.amount) for row in dashboard.by_stream.rows],
            "targets": [str(row.target or ZERO) for row in dashboard.by_stream.rows],
        },
    }


def list_report_choices(*, language: str = "en") -> dict[str, list[tuple[str, str]]]:
    """Streams, wards and channels a report can be filtered by, as (value, label)."""
    return {
        "streams": [
            (stream.code, stream.display_name(language))
            for stream in RevenueStream.objects.order_by("name")
        ],
        "wards": [(NO_WARD, _("No ward")), *Ward.objects.values_list("code", "name")],
        "channels": [(value, str(label)) for value, label in Channel.choices],
    }


# --- Reconciliation results ---------------------------------------------------------------


def list_statement_imports() -> QuerySet[StatementImport]:
    """Imported statements, newest first, with who imported them and lines still to review."""
    return (
        StatementImport.objects.select_related("imported_by")
        .annotate(
            to_review=Count(
                "lines",
                filter=~Q(lines__status=MatchStatus.MATCHED) & Q(lines__decision=""),
            )
        )
        .order_by("-imported_at", "-pk")
    )


def get_statement_import(*, public_id: UUID | str) -> StatementImport | None:
    return StatementImport.objects.select_related("imported_by").filter(public_id=public_id).first()


def count_statement_lines(*, statement: StatementImport) -> dict[str, int]:
    """How many lines of the statement have each match status."""
    counts = dict.fromkeys(MatchStatus.values, 0)
    for row in statement.lines.values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts


def list_statement_lines(*, statement: StatementImport, status: str) -> QuerySet[StatementLine]:
    return (
        statement.lines.filter(status=status)
        .select_related("payment", "decided_by")
        .order_by("row_number")
    )


def get_statement_line(*, statement: StatementImport, row_number: int) -> StatementLine | None:
    return statement.lines.filter(row_number=row_number).first()


def _period_bounds(statement: StatementImport) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(statement.period_start, time.min))
    end = timezone.make_aware(datetime.combine(statement.period_end + timedelta(days=1), time.min))
    return start, end


def counter_slip_number(external_ref: str) -> str:
    """The slip or cheque number in a counter reference (`bank:kcb:12345` -> `12345`)."""
    return external_ref.rsplit(":", 1)[-1]


def list_payments_missing_from_statement(*, statement: StatementImport) -> QuerySet[Payment]:
    """Kaunti's payments of the statement's channels and period that it does not show.

    Computed each time from the database (not stored), so a payment recorded since the
    import is always reflected. M-Pesa: paybill and prompt payments by receipt number.
    Bank: deposit slips of the statement's bank and cheques, by slip or cheque number.
    """
    start, end = _period_bounds(statement)
    payments = Payment.objects.filter(paid_at__gte=start, paid_at__lt=end)
    if statement.kind == StatementKind.MPESA:
        payments = payments.filter(channel__in=MPESA_CHANNELS).exclude(
            mpesa_receipt__in=statement.lines.values("reference")
        )
    else:
        # Counter payments by slip or cheque are a few a day: compare their numbers here.
        shown = set(statement.lines.values_list("reference", flat=True))
        candidates = payments.filter(
            Q(channel=Channel.BANK, external_ref__startswith=f"bank:{statement.bank_code}:")
            | Q(channel=Channel.CHEQUE, external_ref__startswith="cheque:")
        ).values_list("pk", "external_ref")
        payments = payments.filter(
            pk__in=[pk for pk, ref in candidates if counter_slip_number(ref) not in shown]
        )
    return payments.select_related("bill").order_by("paid_at", "pk")
