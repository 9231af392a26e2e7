"""How fast are revenue reports at ten million payments? (bench/reports/README.md)

Fills the daily collections summary (`payments_dailycollection`) of a dedicated
PostgreSQL database as N payments over three financial years would leave it: one row per
day, revenue stream, ward and channel (the worst case: every combination collects every
day), with counts adding up to about N, and the monthly and per day and stream summaries
kept from it. Then times the report selector that the pages
use, `summarise_revenue`, and the dashboard's `get_revenue_dashboard`, and, as a
baseline on the same machine, a plain `SUM ... GROUP BY` over a bare N-row payments-like
table made with generate_series.

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/kaunti_bench \\
        .venv/bin/python bench/reports/run.py --payments 10000000

The database is created when missing and its summary tables are emptied and refilled: the
script refuses a database whose name does not end in "bench".
"""

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import django
import psycopg
from psycopg import sql

# A script run from the repository: make `kaunti` importable and start Django before
# importing it (Django does not touch the database until asked).
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kaunti.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.backends.utils import CursorWrapper  # noqa: E402
from django.db.models import Sum  # noqa: E402

from kaunti.core.reference_data import load_reference_data  # noqa: E402
from kaunti.ledger.services import load_chart_of_accounts  # noqa: E402
from kaunti.payments.models import DailyCollection  # noqa: E402
from kaunti.payments.selectors.dashboard import get_revenue_dashboard  # noqa: E402
from kaunti.payments.selectors.reports import Grouping, RevenueFilter, summarise_revenue  # noqa: E402
from kaunti.payments.services.price_list import load_price_list  # noqa: E402

GOAL_MS = 100.0
FIRST_DAY = date(2023, 7, 1)  # three financial years: 2023/24, 2024/25 and 2025/26
LAST_DAY = date(2026, 6, 30)
TODAY = date(2026, 6, 15)  # the dashboard's "today": mid-month, so both summaries are read

# Relative number of payments per stream and the typical payment (KES): many small market
# fees and cess, few large permits. Channels by share of payments.
STREAM_MIX = {
    "market-fee": (30, 50),
    "produce-cess-potatoes": (15, 400),
    "hawker-permit": (15, 30),
    "produce-cess-milk": (10, 200),
    "livestock-movement": (8, 300),
    "food-handler": (5, 500),
    "business-permit": (5, 15000),
    "land-rates": (4, 8000),
    "weights-measures": (2, 600),
    "house-rent": (2, 4000),
    "plot-rent": (1.5, 3000),
    "machinery-hire": (1, 5000),
    "building-approval": (0.8, 20000),
    "liquor-licence": (0.5, 25000),
    "change-of-use": (0.2, 10000),
}
CHANNEL_MIX = {"mpesa_paybill": 45, "mpesa_stk": 35, "cash": 12, "bank": 6, "cheque": 2}


def _check_database(url: str) -> str:
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL database, e.g. .../kaunti_bench")
    name = url.rsplit("/", 1)[-1].split("?", 1)[0]
    if not name.endswith("bench"):
        sys.exit(f"Refusing to fill {name!r}: use a dedicated database whose name ends in 'bench'.")
    return name


def _create_database_if_missing(url: str, name: str) -> None:
    maintenance = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(maintenance, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


@dataclass(frozen=True)
class Timing:
    label: str
    median_ms: float
    p95_ms: float
    runs: int


def _time(label: str, run: Callable[[], object], *, runs: int, warmups: int = 2) -> Timing:
    for _ in range(warmups):
        run()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return Timing(label, statistics.median(samples), p95, runs)


def _print(timing: Timing, *, goal: bool = True) -> None:
    verdict = ""
    if goal:
        verdict = (
            "  within the 100 ms goal" if timing.p95_ms <= GOAL_MS else "  OVER the 100 ms goal"
        )
    print(
        f"  {timing.label:<52} median {timing.median_ms:8.1f} ms   p95 {timing.p95_ms:8.1f} ms"
        f"   ({timing.runs} runs){verdict}"
    )


@dataclass(frozen=True)
class Filled:
    daily_rows: int
    monthly_rows: int
    stream_day_rows: int
    payments: int


ROLLUP_TRIGGERS = ("payments_dailycollection_rollup", "payments_dailycollection_stream_rollup")


def _load() -> str:
    return ", ".join(f"{load:.2f}" for load in os.getloadavg())


def fill_summary(cursor: CursorWrapper, *, payments: int) -> Filled:
    """One row per day, stream, ward and channel (counts averaging out to `payments` in
    all), and the monthly and per day and stream summaries rolled up from them."""
    cursor.execute("SELECT id, code FROM payments_revenuestream")
    stream_ids = {code: pk for pk, code in cursor.fetchall()}
    cursor.execute("SELECT code FROM core_ward ORDER BY code LIMIT 25")
    wards = [row[0] for row in cursor.fetchall()]
    days = (LAST_DAY - FIRST_DAY).days + 1
    stream_total = sum(weight for weight, _price in STREAM_MIX.values())
    channel_total = sum(CHANNEL_MIX.values())
    per_combination = payments / (days * len(wards))
    streams_sql = ", ".join(
        f"({stream_ids[code]}, {weight * per_combination / stream_total:.6f}, {price})"
        for code, (weight, price) in STREAM_MIX.items()
    )
    channels_sql = ", ".join(
        f"('{code}', {share / channel_total})" for code, share in CHANNEL_MIX.items()
    )
    cursor.execute(
        "TRUNCATE payments_dailycollection, payments_monthlycollection,"
        " payments_dailystreamcollection"
    )
    # The rollup triggers would add 2 million single-row upserts each; fill the monthly and
    # per day and stream summaries from the daily one in one statement each instead (what
    # the migrations do for old rows).
    for trigger in ROLLUP_TRIGGERS:
        cursor.execute(f"ALTER TABLE payments_dailycollection DISABLE TRIGGER {trigger}")
    cursor.execute(
        f"""
        INSERT INTO payments_dailycollection (day, stream_id, ward_code, channel, amount, count)
        SELECT day, stream_id, ward_code, channel, round((n * price * (0.5 + random()))::numeric, 2), n
        FROM (
            SELECT d::date AS day, s.stream_id, w.code AS ward_code, c.channel, s.price,
                   greatest(1, round(random() * 2 * s.expected * c.share))::int AS n
            FROM generate_series(%s::date, %s::date, interval '1 day') AS d
            CROSS JOIN (VALUES {streams_sql}) AS s (stream_id, expected, price)
            CROSS JOIN unnest(%s::text[]) AS w (code)
            CROSS JOIN (VALUES {channels_sql}) AS c (channel, share)
        ) AS generated
        """,  # noqa: S608  (numbers and codes from this file, not input)
        [FIRST_DAY, LAST_DAY, wards],
    )
    for trigger in ROLLUP_TRIGGERS:
        cursor.execute(f"ALTER TABLE payments_dailycollection ENABLE TRIGGER {trigger}")
    cursor.execute(
        """
        INSERT INTO payments_monthlycollection (month, stream_id, ward_code, channel, amount, count)
        SELECT date_trunc('month', day)::date, stream_id, ward_code, channel, sum(amount), sum(count)
        FROM payments_dailycollection GROUP BY 1, 2, 3, 4
        """
    )
    cursor.execute(
        """
        INSERT INTO payments_dailystreamcollection (day, stream_id, amount, count)
        SELECT day, stream_id, sum(amount), sum(count)
        FROM payments_dailycollection GROUP BY 1, 2
        """
    )
    summaries = (
        "payments_dailycollection",
        "payments_monthlycollection",
        "payments_dailystreamcollection",
    )
    figures = []
    for table in summaries:
        # What autovacuum does to a summary whose past days no longer change: statistics,
        # and the visibility map that lets a report read from an index alone.
        cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute(f"SELECT count(*), sum(amount), sum(count) FROM {table}")  # noqa: S608
        figures.append(cursor.fetchone())
    (rows, amount, total), *rolled_up = figures
    for table, (_rows, rolled_up_amount, rolled_up_total) in zip(
        summaries[1:], rolled_up, strict=True
    ):
        if (rolled_up_amount, rolled_up_total) != (amount, total):
            sys.exit(
                f"{table} (KES {rolled_up_amount}, {rolled_up_total} payments) does not add up"
                f" to the daily collections (KES {amount}, {total} payments)"
            )
    return Filled(
        daily_rows=rows,
        monthly_rows=rolled_up[0][0],
        stream_day_rows=rolled_up[1][0],
        payments=total,
    )


def fill_baseline(cursor: CursorWrapper, *, payments: int) -> None:
    """A bare payments-like table of N rows over the same three years, for the baseline."""
    cursor.execute("DROP TABLE IF EXISTS bench_payment")
    cursor.execute(
        """
        CREATE UNLOGGED TABLE bench_payment AS
        SELECT i AS id,
               %s::date + (i %% %s)::int AS paid_on,
               1 + (i %% 15) AS stream_id,
               lpad((441 + i %% 25)::text, 4, '0') AS ward_code,
               (ARRAY['mpesa_paybill', 'mpesa_stk', 'cash', 'bank', 'cheque'])[1 + i %% 5] AS channel,
               round((50 + random() * 1000)::numeric, 2)::numeric(14, 2) AS amount
        FROM generate_series(1, %s) AS i
        """,
        [FIRST_DAY, (LAST_DAY - FIRST_DAY).days + 1, payments],
    )
    cursor.execute("CREATE INDEX bench_payment_paid_on ON bench_payment (paid_on)")
    cursor.execute("ANALYZE bench_payment")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--payments", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=30, help="timed runs per report")
    parser.add_argument("--baseline-runs", type=int, default=5)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    name = _check_database(url)
    _create_database_if_missing(url, name)

    started = time.perf_counter()
    print(f"database {name}: migrating and loading the price list")
    call_command("migrate", verbosity=0, interactive=False)
    load_reference_data(county_code=settings.COUNTY_CODE)
    load_chart_of_accounts()
    load_price_list(county_code=settings.COUNTY_CODE)
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        print(f"  {cursor.fetchone()[0].split(' on ')[0]}, {os.cpu_count()} CPUs")
        fill_started = time.perf_counter()
        filled = fill_summary(cursor, payments=args.payments)
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('payments_dailycollection'))")
        size = cursor.fetchone()[0]
    print(
        f"daily collections: {filled.daily_rows:,} rows ({size}) standing for "
        f"{filled.payments:,} payments, {FIRST_DAY} to {LAST_DAY}; monthly collections: "
        f"{filled.monthly_rows:,} rows; per day and stream: {filled.stream_day_rows:,} rows; "
        f"all three add up to the same; filled in {time.perf_counter() - fill_started:.0f} s"
    )

    year = RevenueFilter(start=date(2025, 7, 1), end=date(2026, 6, 30))
    year_to_date = RevenueFilter(start=date(2025, 7, 1), end=TODAY)
    month = RevenueFilter(start=date(2026, 6, 1), end=date(2026, 6, 30))
    part_month = RevenueFilter(start=date(2026, 6, 1), end=TODAY)
    everything = RevenueFilter(start=FIRST_DAY, end=LAST_DAY)
    one_stream = RevenueFilter(start=year.start, end=year.end, stream_code="market-fee")
    one_ward = RevenueFilter(start=year.start, end=year.end, ward_code="0441")
    one_channel = RevenueFilter(start=year.start, end=year.end, channel="mpesa_paybill")

    def summary(revenue_filter: RevenueFilter, group_by: Grouping) -> Callable[[], object]:
        return lambda: summarise_revenue(revenue_filter=revenue_filter, group_by=group_by)

    reports: list[tuple[str, Callable[[], object]]] = [
        ("a month by stream", summary(month, "stream")),
        ("half a month by ward (daily rows)", summary(part_month, "ward")),
        ("a financial year by stream", summary(year, "stream")),
        ("a financial year by month", summary(year, "month")),
        ("a financial year by channel", summary(year, "channel")),
        ("a year to the 15th by stream (months + days)", summary(year_to_date, "stream")),
        ("one stream, a financial year by ward", summary(one_stream, "ward")),
        ("three years by month", summary(everything, "month")),
        ("a month by day", summary(month, "day")),
        ("a financial year by day", summary(year, "day")),
        ("one stream, a financial year by day", summary(one_stream, "day")),
        ("one ward, a financial year by day (daily rows)", summary(one_ward, "day")),
        ("one channel, a financial year by day (daily rows)", summary(one_channel, "day")),
        (
            "the dashboard (today, month, year, 2 charts)",
            lambda: get_revenue_dashboard(today=TODAY),
        ),
    ]
    print(f"\nrevenue summary selector (goal: p95 within {GOAL_MS:.0f} ms); load average {_load()}")
    for label, run in reports:
        _print(_time(label, run, runs=args.runs))

    def year_by_day_from_daily_rows() -> object:
        """What a year by day read before the summary per day and stream (payments 0004)."""
        rows = DailyCollection.objects.filter(day__gte=year.start, day__lte=year.end)
        return list(rows.values("day").annotate(amount=Sum("amount"), count=Sum("count")))

    print("the same machine and load, without the summary per day and stream:")
    _print(
        _time(
            "a financial year by day from the daily rows",
            year_by_day_from_daily_rows,
            runs=args.runs,
        )
    )
    print(f"load average {_load()}")

    if not args.skip_baseline:
        print(f"\nbaseline: a bare {args.payments:,}-row payments table, plain SQL")
        with connection.cursor() as cursor:
            fill_started = time.perf_counter()
            fill_baseline(cursor, payments=args.payments)
            print(f"  filled in {time.perf_counter() - fill_started:.0f} s")

            def scan(where: str, group: str) -> Callable[[], object]:
                query = f"SELECT {group}, sum(amount), count(*) FROM bench_payment {where} GROUP BY {group}"  # noqa: S608
                return lambda: cursor.execute(query) or cursor.fetchall()

            year_where = f"WHERE paid_on BETWEEN '{year.start}' AND '{year.end}'"
            for label, run in [
                ("a financial year by stream", scan(year_where, "stream_id")),
                ("three years by month", scan("", "date_trunc('month', paid_on)")),
            ]:
                _print(_time(label, run, runs=args.baseline_runs, warmups=1), goal=False)
            cursor.execute("DROP TABLE bench_payment")
    print(f"\ndone in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
