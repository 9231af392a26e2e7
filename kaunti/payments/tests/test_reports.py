"""Revenue reports, the dashboard and their downloads, read from the daily collections."""

import csv
import io
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db.models import F, Sum
from django.db.models.functions import TruncMonth
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from openpyxl import load_workbook
from playwright.sync_api import Browser, expect
from pytest_django import DjangoAssertNumQueries
from pytest_django.asserts import assertContains

from kaunti.accounts.models import User
from kaunti.conftest import STAFF_PASSWORD, sign_in_staff
from kaunti.core.models import Ward
from kaunti.core.money import kes
from kaunti.payments.models import Bill, Channel, DailyCollection, MonthlyCollection
from kaunti.payments.selectors.dashboard import get_revenue_dashboard
from kaunti.payments.selectors.reports import RevenueFilter, prorated_target, summarise_revenue
from kaunti.payments.services.bills import LineInput
from kaunti.payments.services.daily_collections import record_collection
from kaunti.payments.services.recording import record_payment

pytestmark = pytest.mark.django_db

NAIROBI = ZoneInfo("Africa/Nairobi")
JULY_AUGUST = RevenueFilter(start=date(2026, 7, 1), end=date(2026, 8, 31))
ALL_STREAMS_ANNUAL = Decimal("343000000")  # the sum of the price list's annual targets


def pay(bill_number: str, amount: str, ref: str, channel: str, when: datetime) -> None:
    record_payment(
        provider="counter" if channel == Channel.CASH else "mpesa-c2b",
        external_ref=ref,
        channel=channel,
        amount=Decimal(amount),
        paid_at=when,
        bill_number=bill_number,
    )


@pytest.fixture
def collections(make_bill: Callable[..., Bill]) -> None:
    """Five allocations in July and August 2026 over three streams, two wards and no ward,
    and three channels; and one payment in suspense, which is not revenue yet."""
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
    pay(
        market.number,
        "1000",
        "TGA0000001",
        Channel.MPESA_PAYBILL,
        datetime(2026, 7, 15, 10, tzinfo=NAIROBI),
    )
    pay(mixed.number, "300", "cash:one", Channel.CASH, datetime(2026, 8, 2, 9, tzinfo=NAIROBI))
    pay(
        potatoes.number,
        "240",
        "TGC0000003",
        Channel.MPESA_STK,
        datetime(2026, 8, 20, 8, tzinfo=NAIROBI),
    )
    pay(
        partly.number,
        "150",
        "TGD0000004",
        Channel.MPESA_PAYBILL,
        datetime(2026, 8, 20, 23, 30, tzinfo=NAIROBI),
    )
    pay(
        "NOSUCHBILL",
        "999",
        "TGE0000005",
        Channel.MPESA_PAYBILL,
        datetime(2026, 8, 21, tzinfo=NAIROBI),
    )
    # Just after the period: 00:05 on 1 September in Nairobi is still 31 August in UTC.
    late = make_bill(Decimal("70.00"))
    pay(
        late.number,
        "70",
        "TGF0000006",
        Channel.MPESA_PAYBILL,
        datetime(2026, 9, 1, 0, 5, tzinfo=NAIROBI),
    )


def rows_of(
    group_by: str, revenue_filter: RevenueFilter = JULY_AUGUST
) -> dict[str, tuple[Decimal, int, Decimal | None]]:
    summary = summarise_revenue(revenue_filter=revenue_filter, group_by=group_by)  # type: ignore[arg-type]
    return {row.key: (row.amount, row.count, row.target) for row in summary.rows if row.amount}


def test_revenue_by_stream_equals_the_exact_sums_against_prorated_targets(
    collections: None,
) -> None:
    summary = summarise_revenue(revenue_filter=JULY_AUGUST, group_by="stream")

    assert rows_of("stream") == {
        "market-fee": (Decimal("1350.00"), 3, Decimal("5095890.41")),
        "hawker-permit": (Decimal("100.00"), 1, Decimal("509589.04")),
        "produce-cess-potatoes": (Decimal("240.00"), 1, Decimal("6794520.55")),
    }
    assert len(summary.rows) == 15  # every stream with a target shows, even at 0
    assert summary.total_amount == Decimal("1690.00")
    assert summary.total_count == 5
    assert summary.total_target == Decimal("58263013.70")  # 343 M x 62 / 365


def test_revenue_by_ward_and_by_channel_equal_the_exact_sums_without_targets(
    collections: None,
) -> None:
    assert rows_of("ward") == {
        "0441": (Decimal("1150.00"), 2, None),
        "0442": (Decimal("300.00"), 2, None),
        "-": (Decimal("240.00"), 1, None),
    }
    labels = {
        row.key: row.label
        for row in summarise_revenue(revenue_filter=JULY_AUGUST, group_by="ward").rows
    }
    assert labels == {"0441": "Engineer", "0442": "Gathara", "-": "No ward"}
    assert rows_of("channel") == {
        "mpesa_paybill": (Decimal("1150.00"), 2, None),
        "cash": (Decimal("300.00"), 2, None),
        "mpesa_stk": (Decimal("240.00"), 1, None),
    }


def test_revenue_by_day_and_month_fill_every_period_and_equal_the_exact_sums(
    collections: None,
) -> None:
    by_day = summarise_revenue(revenue_filter=JULY_AUGUST, group_by="day")
    by_month = summarise_revenue(revenue_filter=JULY_AUGUST, group_by="month")

    assert len(by_day.rows) == 62
    assert {row.key: row.amount for row in by_day.rows if row.amount} == {
        "2026-07-15": Decimal("1000.00"),
        "2026-08-02": Decimal("300.00"),
        "2026-08-20": Decimal("390.00"),  # 23:30 in Nairobi counts on the Nairobi day
    }
    assert by_day.rows[0].target == Decimal("939726.03")  # 343 M / 365
    assert rows_of("month") == {
        "2026-07": (Decimal("1000.00"), 1, Decimal("29131506.85")),
        "2026-08": (Decimal("690.00"), 4, Decimal("29131506.85")),
    }
    assert by_month.total_amount == by_day.total_amount == Decimal("1690.00")


def test_a_report_filtered_to_one_stream_ward_or_channel(collections: None) -> None:
    market = RevenueFilter(start=JULY_AUGUST.start, end=JULY_AUGUST.end, stream_code="market-fee")
    engineer_mpesa = RevenueFilter(
        start=JULY_AUGUST.start, end=JULY_AUGUST.end, ward_code="0441", channel="mpesa_paybill"
    )

    assert rows_of("ward", market) == {
        "0441": (Decimal("1150.00"), 2, None),
        "0442": (Decimal("200.00"), 1, None),
    }
    assert summarise_revenue(revenue_filter=market, group_by="month").total_target == Decimal(
        "5095890.41"
    )
    engineer = summarise_revenue(revenue_filter=engineer_mpesa, group_by="stream")
    assert engineer.total_amount == Decimal("1150.00")
    assert engineer.total_target is None  # targets are per stream for the whole county


def test_a_period_of_part_months_adds_the_days_at_either_end_to_the_whole_months(
    collections: None,
) -> None:
    def total(start: date, end: date) -> Decimal:
        revenue_filter = RevenueFilter(start=start, end=end)
        return summarise_revenue(revenue_filter=revenue_filter, group_by="channel").total_amount

    assert total(date(2026, 7, 15), date(2026, 8, 20)) == Decimal("1690.00")
    assert total(date(2026, 7, 16), date(2026, 8, 19)) == Decimal("300.00")
    assert total(date(2026, 6, 20), date(2026, 9, 1)) == Decimal("1760.00")
    assert total(date(2026, 8, 1), date(2026, 9, 30)) == Decimal("760.00")


def test_the_monthly_summary_follows_every_change_of_the_daily_one(
    collections: None, make_bill: Callable[..., Bill]
) -> None:
    bill = make_bill(Decimal("400.00"), ward=Ward.objects.get(code="0441"))
    record_collection(bill=bill, amount=Decimal("400.00"), channel="cash", day=date(2026, 8, 3))
    record_collection(bill=bill, amount=Decimal("-400.00"), channel="cash", day=date(2026, 8, 9))

    def grouped(
        model: type[DailyCollection] | type[MonthlyCollection], field: str
    ) -> set[tuple[object, ...]]:
        rows = (
            model.objects.annotate(key=TruncMonth(field))
            if field == "day"
            else model.objects.annotate(key=F(field))
        )
        return {
            (
                row["key"],
                row["stream_id"],
                row["ward_code"],
                row["channel"],
                kes(row["amount"]),
                row["count"],
            )
            for row in rows.values("key", "stream_id", "ward_code", "channel").annotate(
                amount=Sum("amount"), count=Sum("count")
            )
        }

    assert grouped(MonthlyCollection, "month") == grouped(DailyCollection, "day")
    market_cash = MonthlyCollection.objects.get(
        month=date(2026, 8, 1), stream__code="market-fee", ward_code="0441", channel="cash"
    )
    assert (market_cash.amount, market_cash.count) == (Decimal("0.00"), 0)


def test_targets_are_prorated_by_days_of_each_financial_year() -> None:
    assert prorated_target(
        annual=Decimal("36500"), start=date(2026, 7, 1), end=date(2026, 7, 1)
    ) == Decimal("100.00")
    assert prorated_target(
        annual=Decimal("36500"), start=date(2026, 7, 1), end=date(2027, 6, 30)
    ) == Decimal("36500.00")
    # 30 June 2027 is the last day of 2026/27 (365 days); 1 July 2027 the first of 2027/28 (366).
    assert prorated_target(
        annual=Decimal("73000"), start=date(2027, 6, 30), end=date(2027, 7, 1)
    ) == Decimal("399.45")


def test_a_summary_reads_the_daily_collections_in_a_fixed_number_of_queries(
    collections: None, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    with django_assert_num_queries(2):
        summarise_revenue(revenue_filter=JULY_AUGUST, group_by="stream")
    with django_assert_num_queries(2):
        summarise_revenue(revenue_filter=JULY_AUGUST, group_by="month")


def test_the_dashboard_totals_today_this_month_and_the_year_against_target(
    collections: None,
) -> None:
    dashboard = get_revenue_dashboard(today=date(2026, 8, 20))

    assert (dashboard.today.amount, dashboard.today.count) == (Decimal("390.00"), 2)
    assert dashboard.today.target == Decimal("939726.03")
    assert dashboard.this_month.amount == Decimal("690.00")
    assert dashboard.this_month.target == Decimal("18794520.55")  # 20 days of August
    assert dashboard.year_to_date.amount == Decimal("1690.00")
    assert dashboard.year_to_date.target == Decimal("47926027.40")  # 51 days
    assert dashboard.annual_target == ALL_STREAMS_ANNUAL
    assert [row.key for row in dashboard.by_month.rows][:3] == ["2026-07", "2026-08", "2026-09"]
    assert len(dashboard.by_month.rows) == 12
    assert dashboard.by_month.rows[2].amount == Decimal("70.00")
    market = next(row for row in dashboard.by_stream.rows if row.key == "market-fee")
    assert (market.amount, market.target) == (Decimal("1350.00"), Decimal("30000000"))


# --- Pages and downloads --------------------------------------------------------------

REPORT_QUERY = "start=2026-07-01&end=2026-08-31&group_by=stream&stream=&ward=&channel="
PAGES = [
    "/staff/reports/",
    f"/staff/reports/revenue/?{REPORT_QUERY}",
    f"/staff/reports/revenue.csv?{REPORT_QUERY}",
    f"/staff/reports/revenue.xlsx?{REPORT_QUERY}",
]


@pytest.fixture
def officer(make_staff: Callable[..., User]) -> User:
    return make_staff(["revenue_officer"])


def test_report_pages_permission_matrix(
    client: Client, price_list: None, citizen: User, make_staff: Callable[..., User]
) -> None:
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"].startswith("/staff/sign-in/?next=")
    client.force_login(citizen)
    assert [client.get(page).status_code for page in PAGES] == [403] * 4
    client.logout()
    sign_in_staff(client, make_staff(["cashier"]))
    assert [client.get(page).status_code for page in PAGES] == [403] * 4
    client.logout()
    sign_in_staff(client, make_staff(["auditor"], department="finance"))
    assert [client.get(page).status_code for page in PAGES] == [200] * 4


def test_the_csv_download_has_the_figures(client: Client, collections: None, officer: User) -> None:
    sign_in_staff(client, officer)

    response = client.get(f"/staff/reports/revenue.csv?{REPORT_QUERY}")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="revenue-by-stream-2026-07-01-to-2026-08-31.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "Revenue stream",
        "Code",
        "Payments",
        "Amount (KES)",
        "Target (KES)",
        "Per cent of target",
    ]
    assert ["Market entry fee", "market-fee", "3", "1350.00", "5095890.41", "0.0"] in rows
    assert rows[-1] == ["Total", "", "5", "1690.00", "58263013.70", "0.0"]


def test_the_excel_download_has_the_figures_as_numbers(
    client: Client, collections: None, officer: User
) -> None:
    sign_in_staff(client, officer)

    response = client.get(
        "/staff/reports/revenue.xlsx?start=2026-07-01&end=2026-08-31&group_by=channel"
    )

    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"] == (
        'attachment; filename="revenue-by-channel-2026-07-01-to-2026-08-31.xlsx"'
    )
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    values = [
        [Decimal(str(cell.value)) if isinstance(cell.value, float) else cell.value for cell in row]
        for row in sheet.iter_rows()
    ]
    assert values[0][:4] == ["Channel", "Code", "Payments", "Amount (KES)"]
    assert values[1:] == [
        ["Cash", "cash", 2, 300, None, None],
        ["M-Pesa paybill", "mpesa_paybill", 2, 1150, None, None],
        ["M-Pesa (prompt on phone)", "mpesa_stk", 1, 240, None, None],
        ["Total", None, 5, 1690, Decimal("58263013.7"), 0],  # the county's target
    ]
    assert sheet["D2"].number_format == "#,##0.00"


def test_a_report_for_a_reversed_period_is_refused_with_a_message(
    client: Client, price_list: None, officer: User
) -> None:
    sign_in_staff(client, officer)

    page = client.get("/staff/reports/revenue/?start=2026-08-31&end=2026-07-01&group_by=day")
    download = client.get("/staff/reports/revenue.csv?start=2026-08-31&end=2026-07-01&group_by=day")

    assertContains(page, "The last day must be on or after the first day.")
    assert download.status_code == 400


def test_the_dashboard_draws_its_charts_from_our_own_script_and_data(
    client: Client, collections: None, officer: User
) -> None:
    sign_in_staff(client, officer)

    response = client.get("/staff/reports/")

    html = response.content.decode()
    assert '<script id="revenue-chart-data" type="application/json">' in html
    assert '<script src="/static/build/chart.umd.min.js"></script>' in html
    assert '<script src="/static/kaunti/dashboard.js"></script>' in html
    inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", html)
    assert inline == []
    assert response.context["chart_data"]["byMonth"]["labels"][0] == "2026-07"
    assertContains(response, "Collections by month")
    assertContains(response, "Collections by revenue stream this year")


@pytest.mark.browser
def test_the_dashboard_draws_both_charts_in_a_browser_under_the_content_security_policy(
    live_server: Any,
    transactional_db: None,
    collections: None,
    make_staff: Callable[..., User],
    browser: Browser,
) -> None:
    officer = make_staff(["revenue_officer"])
    device = TOTPDevice.objects.get(user=officer)
    problems: list[str] = []
    page = browser.new_page()
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{live_server.url}/staff/sign-in/?next=/staff/reports/")
    page.locator("input[name=username]").fill(officer.username)
    page.locator("input[name=password]").fill(STAFF_PASSWORD)
    page.locator("main form button[type=submit]").click()
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    page.locator("input[name=token]").fill(f"{code:06d}")
    page.locator("main form button[type=submit]").click()

    expect(page).to_have_url(f"{live_server.url}/staff/reports/")
    for chart in ("byMonth", "byStream"):
        figure = page.locator(f"figure[data-chart={chart}]")
        expect(figure).to_be_visible()
        assert figure.locator("canvas").evaluate("canvas => canvas.width") > 0
    page.close()

    assert problems == []  # nothing refused by the CSP, no script error
