"""The revenue dashboard: today, this month and this financial year against target, by
stream and by channel, and the figures its chart draws."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Sum

from kaunti.core.money import ZERO, kes
from kaunti.payments.models import (
    DailyStreamCollection,
    RevenueStream,
)
from kaunti.payments.numbering import financial_year
from kaunti.payments.selectors.reports import (
    RevenueFilter,
    RevenueRow,
    RevenueSummary,
    financial_year_bounds,
    prorated_target,
    summarise_revenue,
)


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
