"""The collections summary per day and stream: kept by the database from the daily rows,
and read by reports that neither group nor filter by ward or channel."""

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from kaunti.core.models import Ward
from kaunti.core.money import ZERO, kes
from kaunti.payments.models import (
    Bill,
    Channel,
    DailyCollection,
    DailyStreamCollection,
    RevenueStream,
)
from kaunti.payments.selectors.dashboard import get_revenue_dashboard
from kaunti.payments.selectors.reports import (
    GROUPINGS,
    NO_WARD,
    Grouping,
    RevenueFilter,
    summarise_revenue,
)
from kaunti.payments.services.bills import LineInput
from kaunti.payments.services.daily_collections import record_collection
from kaunti.payments.services.recording import (
    IncomingPayment,
    record_payment,
    record_payments,
)

pytestmark = pytest.mark.django_db

NAIROBI = ZoneInfo("Africa/Nairobi")
JULY_AUGUST = RevenueFilter(start=date(2026, 7, 1), end=date(2026, 8, 31))
LATE_ON_31_JULY = datetime(2026, 7, 31, 23, 30, tzinfo=NAIROBI)  # 20:30 UTC
ON_1_AUGUST = datetime(2026, 8, 1, 9, tzinfo=NAIROBI)

Totals = dict[tuple[date, int], tuple[Decimal, int]]
Figures = dict[str, tuple[Decimal, int]]


def incoming(bill: Bill, amount: str, ref: str, channel: str, when: datetime) -> IncomingPayment:
    return IncomingPayment(
        provider="counter" if channel == Channel.CASH else "mpesa-c2b",
        external_ref=ref,
        channel=channel,
        amount=Decimal(amount),
        paid_at=when,
        bill_number=bill.number,
    )


@pytest.fixture
def collections(make_bill: Callable[..., Bill]) -> None:
    """Payments in full and in part over two wards, no ward, three streams and three
    channels, some in one batch; and a receipt taken back (a negative collection)."""
    engineer, gathara = Ward.objects.get(code="0441"), Ward.objects.get(code="0442")
    market = make_bill(Decimal("1000.00"), ward=engineer)
    mixed = make_bill(
        None,
        lines=[
            LineInput("market-fee", unit_price=Decimal("200")),
            LineInput("hawker-permit", unit_price=Decimal("100")),
        ],
        ward=gathara,
    )
    potatoes = make_bill(None, lines=[LineInput("produce-cess-potatoes", quantity=Decimal(12))])
    partly = make_bill(Decimal("500.00"), ward=engineer)
    record_payments(
        [
            incoming(market, "1000", "TGA0000001", Channel.MPESA_PAYBILL, LATE_ON_31_JULY),
            incoming(partly, "150", "TGB0000002", Channel.MPESA_PAYBILL, ON_1_AUGUST),
            incoming(mixed, "100", "TGC0000003", Channel.MPESA_STK, ON_1_AUGUST),
        ]
    )
    record_payment(
        provider="counter",
        external_ref="cash:one",
        channel=Channel.CASH,
        amount=Decimal("200"),
        paid_at=datetime(2026, 8, 1, 10, tzinfo=NAIROBI),
        bill_number=mixed.number,
    )
    # The second part payment of the same bill, day and channel: an upsert of an existing row.
    record_payment(
        provider="mpesa-c2b",
        external_ref="TGD0000004",
        channel=Channel.MPESA_PAYBILL,
        amount=Decimal("200"),
        paid_at=datetime(2026, 8, 1, 18, tzinfo=NAIROBI),
        bill_number=partly.number,
    )
    record_payment(
        provider="mpesa-c2b",
        external_ref="TGE0000005",
        channel=Channel.MPESA_STK,
        amount=Decimal("240"),
        paid_at=datetime(2026, 8, 20, 8, tzinfo=NAIROBI),
        bill_number=potatoes.number,
    )
    # The market bill's receipt cancelled on 20 August: taken back on that day.
    record_collection(
        bill=market,
        amount=Decimal("-1000.00"),
        channel=Channel.MPESA_PAYBILL,
        day=date(2026, 8, 20),
    )


def from_daily_rows(revenue_filter: RevenueFilter, group_by: Grouping) -> Figures:
    """What a report should show, added up here from every daily row (no summary read)."""
    codes = dict(RevenueStream.objects.values_list("pk", "code"))
    ward = revenue_filter.ward_code
    sums: Figures = {}
    for row in DailyCollection.objects.filter(
        day__gte=revenue_filter.start, day__lte=revenue_filter.end
    ):
        if revenue_filter.stream_code and codes[row.stream_id] != revenue_filter.stream_code:
            continue
        if ward and (row.ward_code or NO_WARD) != ward:
            continue
        if revenue_filter.channel and row.channel != revenue_filter.channel:
            continue
        key = {
            "day": row.day.isoformat(),
            "month": row.day.strftime("%Y-%m"),
            "stream": codes[row.stream_id],
            "ward": row.ward_code or NO_WARD,
            "channel": row.channel,
        }[group_by]
        amount, count = sums.get(key, (ZERO, 0))
        sums[key] = (amount + row.amount, count + row.count)
    return {key: value for key, value in sums.items() if value != (ZERO, 0)}


def from_report(revenue_filter: RevenueFilter, group_by: Grouping) -> Figures:
    summary = summarise_revenue(revenue_filter=revenue_filter, group_by=group_by)
    rows = {row.key: (row.amount, row.count) for row in summary.rows if row.amount or row.count}
    assert summary.total_amount == sum((amount for amount, _count in rows.values()), ZERO)
    assert summary.total_count == sum(count for _amount, count in rows.values())
    return rows


def stream_days() -> Totals:
    """The summary per day and stream, leaving out rows that came back to nothing."""
    return {
        (row.day, row.stream_id): (kes(row.amount), row.count)
        for row in DailyStreamCollection.objects.all()
        if row.amount or row.count
    }


def daily_rows_by_stream_day() -> Totals:
    totals: Totals = {}
    for row in DailyCollection.objects.all():
        amount, count = totals.get((row.day, row.stream_id), (ZERO, 0))
        totals[(row.day, row.stream_id)] = (amount + row.amount, count + row.count)
    return {key: value for key, value in totals.items() if value != (ZERO, 0)}


def test_the_summary_per_day_and_stream_has_exactly_the_daily_rows_totals(
    collections: None,
) -> None:
    market, hawker, potatoes = (
        RevenueStream.objects.get(code=code).pk
        for code in ("market-fee", "hawker-permit", "produce-cess-potatoes")
    )

    assert stream_days() == daily_rows_by_stream_day()
    assert stream_days() == {
        (date(2026, 7, 31), market): (Decimal("1000.00"), 1),
        # 150 + 200 on the part-paid bill, (100 + 200) x 2/3 on the mixed one (prompt, cash).
        (date(2026, 8, 1), market): (Decimal("550.00"), 4),
        (date(2026, 8, 1), hawker): (Decimal("100.00"), 2),
        (date(2026, 8, 20), market): (Decimal("-1000.00"), -1),
        (date(2026, 8, 20), potatoes): (Decimal("240.00"), 1),
    }


@pytest.mark.parametrize(
    "revenue_filter",
    [
        JULY_AUGUST,
        RevenueFilter(start=date(2026, 7, 31), end=date(2026, 8, 20)),
        RevenueFilter(start=date(2026, 7, 31), end=date(2026, 9, 30)),
        RevenueFilter(start=JULY_AUGUST.start, end=JULY_AUGUST.end, stream_code="market-fee"),
        RevenueFilter(start=JULY_AUGUST.start, end=JULY_AUGUST.end, ward_code="0441"),
        RevenueFilter(start=JULY_AUGUST.start, end=JULY_AUGUST.end, ward_code=NO_WARD),
        RevenueFilter(start=JULY_AUGUST.start, end=JULY_AUGUST.end, channel="mpesa_paybill"),
        RevenueFilter(
            start=JULY_AUGUST.start,
            end=JULY_AUGUST.end,
            stream_code="market-fee",
            ward_code="0442",
            channel="cash",
        ),
    ],
    ids=[
        "period",
        "part-months",
        "days-and-months",
        "stream",
        "ward",
        "no-ward",
        "channel",
        "all-filters",
    ],
)
def test_every_report_equals_the_sum_of_the_daily_rows_for_its_period_and_filters(
    collections: None, revenue_filter: RevenueFilter
) -> None:
    for group_by in GROUPINGS:
        assert from_report(revenue_filter, group_by) == from_daily_rows(revenue_filter, group_by)


def test_the_report_by_day_after_payments_part_payments_and_a_reversal(
    collections: None,
) -> None:
    summary = summarise_revenue(revenue_filter=JULY_AUGUST, group_by="day")

    assert len(summary.rows) == 62
    assert {row.key: (row.amount, row.count) for row in summary.rows if row.amount} == {
        "2026-07-31": (Decimal("1000.00"), 1),  # 23:30 in Nairobi counts on the Nairobi day
        "2026-08-01": (Decimal("650.00"), 6),
        "2026-08-20": (Decimal("-760.00"), 0),  # 240 collected, 1,000 taken back
    }
    assert (summary.total_amount, summary.total_count) == (Decimal("890.00"), 7)
    dashboard = get_revenue_dashboard(today=date(2026, 8, 20))
    assert (dashboard.today.amount, dashboard.today.count) == (Decimal("-760.00"), 0)


def test_the_summary_follows_upserts_updates_and_deletes_of_the_daily_rows(
    collections: None,
) -> None:
    market = RevenueStream.objects.get(code="market-fee").pk
    hawker = RevenueStream.objects.get(code="hawker-permit").pk
    table = DailyCollection._meta.db_table

    # An upsert that hits an existing row, written the way the money path writes it.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, stream_id, ward_code, channel, amount, count)"  # noqa: S608
            " VALUES (%s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (day, stream_id, ward_code, channel) DO UPDATE"
            f" SET amount = {table}.amount + excluded.amount,"
            f" count = {table}.count + excluded.count",
            [date(2026, 8, 1), market, "0441", Channel.MPESA_PAYBILL, Decimal("25.50"), 1],
        )
    assert stream_days()[(date(2026, 8, 1), market)] == (Decimal("575.50"), 5)
    assert stream_days() == daily_rows_by_stream_day()

    # An update with F() expressions.
    DailyCollection.objects.filter(day=date(2026, 8, 1), stream_id=hawker).update(
        amount=F("amount") + Decimal("10.00"), count=F("count") + 1
    )
    assert stream_days()[(date(2026, 8, 1), hawker)] == (Decimal("120.00"), 4)
    assert stream_days() == daily_rows_by_stream_day()

    # An update that moves a row to another day and stream.
    DailyCollection.objects.filter(day=date(2026, 8, 20), stream_id=market).update(
        day=date(2026, 8, 21), stream_id=hawker
    )
    assert (date(2026, 8, 20), market) not in stream_days()
    assert stream_days()[(date(2026, 8, 21), hawker)] == (Decimal("-1000.00"), -1)
    assert stream_days() == daily_rows_by_stream_day()

    # A delete.
    DailyCollection.objects.filter(day=date(2026, 7, 31)).delete()
    assert (date(2026, 7, 31), market) not in stream_days()
    assert stream_days() == daily_rows_by_stream_day()
    assert summarise_revenue(revenue_filter=JULY_AUGUST, group_by="day").total_amount == (
        Decimal("-64.50")  # 650 + 25.50 + 2 x 10 on 1 August, 240 - 1,000 on the 20th and 21st
    )


def test_reports_read_the_summary_per_day_and_stream_unless_they_need_wards_or_channels(
    collections: None,
) -> None:
    def tables(revenue_filter: RevenueFilter, group_by: Grouping) -> set[str]:
        with CaptureQueriesContext(connection) as queries:
            summarise_revenue(revenue_filter=revenue_filter, group_by=group_by)
        sql = " ".join(query["sql"] for query in queries.captured_queries)
        return {
            table
            for table in ("dailycollection", "dailystreamcollection", "monthlycollection")
            if f'payments_{table}"' in sql or f"payments_{table} " in sql
        }

    market = RevenueFilter(start=JULY_AUGUST.start, end=JULY_AUGUST.end, stream_code="market-fee")
    engineer = RevenueFilter(start=JULY_AUGUST.start, end=JULY_AUGUST.end, ward_code="0441")
    cash = RevenueFilter(start=JULY_AUGUST.start, end=JULY_AUGUST.end, channel="cash")

    assert tables(JULY_AUGUST, "day") == {"dailystreamcollection"}
    assert tables(market, "day") == {"dailystreamcollection"}
    assert tables(engineer, "day") == {"dailycollection"}
    assert tables(cash, "day") == {"dailycollection"}
    assert tables(RevenueFilter(start=date(2026, 8, 1), end=date(2026, 8, 20)), "stream") == {
        "dailystreamcollection"
    }
    assert tables(RevenueFilter(start=date(2026, 8, 1), end=date(2026, 8, 20)), "ward") == {
        "dailycollection"
    }
