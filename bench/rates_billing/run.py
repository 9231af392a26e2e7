"""Annual land rates billing of N parcels on PostgreSQL, next to a COPY of N rows.

    .venv/bin/python bench/rates_billing/run.py --parcels 1000000

See README.md in this folder for what it does and the results.
"""

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import django
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
DATABASE = os.environ.get("BENCH_DATABASE", "kaunti_rates_bench")
SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
GOAL_RATIO = 5.0  # billing may take at most 5 times the COPY baseline (2 cores)

os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "kaunti.settings",
        "DATABASE_URL": f"{SERVER}/{DATABASE}",
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-" + "r" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SMS_BACKEND": "console",
        "MPESA_CALLBACK_TOKEN": "bench-rates-token-" + "t" * 20,
        "AFRICASTALKING_CALLBACK_TOKEN": "bench-rates-at-token-" + "t" * 20,
        "SECURE_SSL_REDIRECT": "0",
    }
)
sys.path.insert(0, str(ROOT))
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Sum  # noqa: E402
from django.utils import timezone  # noqa: E402

from kaunti.core.models import Ward  # noqa: E402
from kaunti.core.reference_data import load_reference_data  # noqa: E402
from kaunti.land.models import ChargeKind, LandUse, Parcel, ParcelCharge  # noqa: E402
from kaunti.land.selectors.balances import parcel_statement  # noqa: E402
from kaunti.land.services.billing import bill_rates  # noqa: E402
from kaunti.land.services.penalties import apply_monthly_penalties  # noqa: E402
from kaunti.land.services.rating import set_rating_rule, set_rating_year  # noqa: E402
from kaunti.land.services.roll import approve_roll, create_roll  # noqa: E402
from kaunti.ledger.selectors import get_account_balance, get_trial_balance  # noqa: E402
from kaunti.ledger.services import load_chart_of_accounts  # noqa: E402
from kaunti.payments.models import Allocation, Bill  # noqa: E402
from kaunti.payments.services.price_list import load_price_list  # noqa: E402

FY = 2026
USES = [LandUse.AGRICULTURAL] * 7 + [LandUse.RESIDENTIAL] * 2 + [LandUse.COMMERCIAL]


TEMPLATE = f"{DATABASE}_prepared"  # --save-prepared / --from-prepared: skip preparing again


def recreate_database(*, name: str = DATABASE, template: str | None = None) -> None:
    connection.close()  # a template must have no connections; Django reconnects lazily
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        admin.execute(create)


def copy(cursor: psycopg.Cursor, table: str, columns: list[str], rows: object) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as writer:
        for row in rows:  # type: ignore[attr-defined]
            writer.write_row(row)


def prepare(n: int, seed: int) -> None:
    """Migrate, load the county's data, and write N parcels, owners and a roll (untimed)."""
    call_command("migrate", verbosity=0, interactive=False)
    load_reference_data(county_code="018")
    load_chart_of_accounts()
    load_price_list(county_code="018")
    rng = random.Random(seed)  # noqa: S311  (test data, not secrets)
    wards = list(Ward.objects.values_list("id", flat=True))
    roll = create_roll(name="Valuation roll 2026", valuation_date=date(2026, 1, 1), actor=None)
    now = timezone.now()
    raw = connection.connection
    with raw.cursor() as cursor:
        copy(
            cursor,
            "land_parcel",
            [
                "id", "public_id", "number", "number_key", "ward_id", "area_hectares",
                "land_use", "zone", "tenure", "improvements", "is_rateable", "created_at",
                "updated_at",
            ],
            (
                (
                    i, f"00000000-0000-4000-8000-{i:012d}", f"NYANDARUA/OL KALOU/{i}",
                    f"NYANDARUA/OLKALOU/{i}", wards[i % len(wards)], Decimal("1.5000"),
                    USES[i % len(USES)], "", "freehold", "", True, now, now,
                )
                for i in range(1, n + 1)
            ),
        )  # fmt: skip
        copy(
            cursor,
            "land_owner",
            ["id", "public_id", "kind", "name", "national_id", "kra_pin", "phone", "created_at"],
            (
                (i, f"00000000-0000-4000-9000-{i:012d}", "individual", f"Owner {i}",
                 str(10_000_000 + i), "", "", now)
                for i in range(1, n + 1)
            ),
        )  # fmt: skip
        copy(
            cursor,
            "land_ownership",
            [
                "id", "parcel_id", "owner_id", "share_numerator", "share_denominator",
                "started_on",
            ],
            ((i, i, i, 1, 1, date(2020, 1, 1)) for i in range(1, n + 1)),
        )  # fmt: skip
        copy(
            cursor,
            "land_rollentry",
            ["id", "roll_id", "parcel_id", "site_value", "valuation_date", "created_at"],
            (
                (i, roll.pk, i, Decimal(rng.randrange(0, 5_000_000_00)) / 100,
                 date(2026, 1, 1), now)
                for i in range(1, n + 1)
            ),
        )  # fmt: skip
        for table in ("land_parcel", "land_owner", "land_ownership", "land_rollentry"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {n})")
    raw.commit()
    with connection.cursor() as cursor:
        # A county imports its roll days before billing, and autovacuum has been through
        # it by then (hint bits set, statistics taken): so here, before the clock starts.
        for table in ("land_parcel", "land_owner", "land_ownership", "land_rollentry"):
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("ANALYZE")
    approve_roll(roll=roll, actor=None)
    year = set_rating_year(
        financial_year=FY,
        due_on=date(2026, 9, 30),
        penalty_percent_per_month=Decimal(1),
        actor=None,
    )
    set_rating_rule(
        rating_year=year, rate_percent=Decimal("0.1"), minimum_charge=Decimal(500), actor=None
    )
    set_rating_rule(
        rating_year=year,
        land_use=LandUse.COMMERCIAL,
        rate_percent=Decimal("0.5"),
        minimum_charge=Decimal(2000),
        actor=None,
    )


def copy_baseline(n: int) -> float:
    """COPY N bill-like rows (number, payer, ward, description, due date, amount, source)
    into a bare table with only a primary key, as the floor of what billing could cost."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_bare_bill")
        cursor.execute(
            "CREATE TABLE bench_bare_bill (id bigint PRIMARY KEY, number varchar(12), "
            "payer_name varchar(150), payer_key varchar(40), ward_id int, "
            "description varchar(200), due_on date, total numeric(14,2), "
            "source_ref varchar(80), created_at timestamptz)"
        )
    connection.connection.commit()
    now = timezone.now()
    started = time.perf_counter()
    raw = connection.connection
    with raw.cursor() as cursor:
        copy(
            cursor,
            "bench_bare_bill",
            [
                "id", "number", "payer_name", "payer_key", "ward_id", "description", "due_on",
                "total", "source_ref", "created_at",
            ],
            (
                (i, f"B{i:08d}", f"Owner {i}", f"id:{10_000_000 + i}", i % 25,
                 f"Land rates 2026/27, NYANDARUA/OL KALOU/{i}", date(2026, 9, 30),
                 Decimal("1234.57"), f"{i}:2026", now)
                for i in range(1, n + 1)
            ),
        )  # fmt: skip
    raw.commit()
    return time.perf_counter() - started


def copy_into_bill_table(n: int) -> float:
    """COPY N rows into payments' own bill table (its indexes, 4 foreign keys checked at
    once), then roll back: what the bills alone cost before any land work."""
    raw = connection.connection
    department = Bill.objects.values_list("department_id", flat=True).first()
    ward = Ward.objects.values_list("id", flat=True).first()
    now = timezone.now()
    started = time.perf_counter()
    with raw.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        copy(
            cursor,
            "payments_bill",
            [
                "id", "number", "payer_name", "payer_phone", "payer_id_number",
                "payer_kra_pin", "payer_key", "department_id", "ward_id", "description",
                "due_on", "status", "total", "paid", "source_type", "source_ref", "created_at",
            ],
            (
                (2_000_000_000 + i, f"ZZ{i:07d}", f"Owner {i}", "", str(10_000_000 + i), "",
                 f"id:{10_000_000 + i}", department, ward,
                 f"Land rates 2026/27, NYANDARUA/OL KALOU/{i}", date(2026, 9, 30), "open",
                 Decimal("1234.57"), 0, "bench", f"{i}:2026", now)
                for i in range(1, n + 1)
            ),
        )  # fmt: skip
    elapsed = time.perf_counter() - started
    raw.rollback()
    return elapsed


CREDIT_HELD = Decimal("100.00")


def hold_credit(parcels: int) -> int:
    """Give the owners of the first `parcels` parcels credit (as an overpayment would);
    how many payers hold it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO payments_payercredit (payer_key, amount, created_at)"
            " SELECT DISTINCT 'id:' || w.national_id, %s::numeric, now()"
            " FROM land_ownership o JOIN land_owner w ON w.id = o.owner_id"
            " WHERE o.ended_on IS NULL AND o.parcel_id IN"
            "  (SELECT id FROM land_parcel ORDER BY id LIMIT %s)",
            [CREDIT_HELD, parcels],
        )
        holders = cursor.rowcount
        cursor.execute("ANALYZE payments_payercredit")
    print(f"  {holders:,} payers hold KES {CREDIT_HELD} of credit each", flush=True)
    return holders


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class CpuMeter:
    """CPU seconds used by this process and by the PostgreSQL backends connected to the
    bench's database, sampled every 0.1 s (a backend's time is kept when it exits): what
    the work costs, whatever else the shared machine is doing at the time."""

    def __init__(self) -> None:
        self._seen: dict[int, float] = {}
        self._stop = threading.Event()
        self._tick = os.sysconf("SC_CLK_TCK")
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _cpu(self, pid: int) -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self._tick

    def _take(self) -> None:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            try:
                if pid != os.getpid():
                    command = (entry / "cmdline").read_bytes()
                    if (
                        not command.startswith(b"postgres:")
                        or f" {DATABASE} ".encode() not in command
                    ):
                        continue
                self._seen[pid] = max(self._seen.get(pid, 0.0), self._cpu(pid))
            except OSError:
                continue

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            self._take()

    def __enter__(self) -> "CpuMeter":
        self._take()
        self._start = dict(self._seen)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._take()
        self.seconds = sum(cpu - self._start.get(pid, 0.0) for pid, cpu in self._seen.items())


def billing_command(chunk_size: int, workers: int) -> list[str]:
    return [
        sys.executable, str(ROOT / "manage.py"), "bill_land_rates", "--year", "2026/27",
        "--chunk-size", str(chunk_size), "--workers", str(workers),
    ]  # fmt: skip


def crash_and_resume(n: int, kill_after: float, chunk_size: int, workers: int) -> None:
    """kill -9 the billing command part-way, run it again, and check the result."""
    connection.close()
    process = subprocess.Popen(  # noqa: S603  (our own command)
        billing_command(chunk_size, workers), env=os.environ.copy(), stdout=subprocess.DEVNULL
    )
    time.sleep(kill_after)
    process.send_signal(signal.SIGKILL)
    process.wait()
    partial = Bill.objects.filter(source_type="land.rates").count()
    print(f"Killed (-9) after {kill_after:g} s with {partial:,} of {n:,} bills committed.")
    if not 0 < partial < n:
        print("  (the kill did not land half-way; try another --kill-after)")
    resumed = subprocess.run(  # noqa: S603
        billing_command(chunk_size, workers), env=os.environ.copy(), capture_output=True, text=True
    )
    print(resumed.stdout.strip().splitlines()[-1] if resumed.stdout.strip() else resumed.stderr)
    bills = Bill.objects.filter(source_type="land.rates").count()
    distinct = ParcelCharge.objects.values("parcel_id").distinct().count()
    balanced = get_trial_balance().is_balanced
    billed = Bill.objects.filter(source_type="land.rates").aggregate(total=Sum("total"))["total"]
    receivable = get_account_balance(code="1200")
    print(f"Bills: {bills:,}  parcels billed: {distinct:,}  trial balance zero: {balanced}")
    print(f"Billed KES {billed:,.2f}; receivables KES {receivable:,.2f}")
    ok = bills == n and distinct == n and balanced and billed == receivable
    print("CHECKS", "PASSED" if ok else "FAILED")
    sys.exit(0 if ok else 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parcels", type=int, default=1_000_000)
    parser.add_argument("--chunk-size", type=int, default=10000)
    parser.add_argument("--workers", type=int, default=2, help="Chunks billed at once.")
    parser.add_argument("--statements", type=int, default=300)
    parser.add_argument(
        "--penalties", action="store_true", help="then time October's penalty run too"
    )
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument(
        "--kill-after",
        type=float,
        default=0.0,
        help="Instead of timing: run `manage.py bill_land_rates` as a subprocess, kill -9 it "
        "after this many seconds, run it again, and check that every parcel has one bill.",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="Keep the database of an earlier run (e.g. one that stopped): resume its billing.",
    )
    parser.add_argument(
        "--save-prepared",
        action="store_true",
        help=f"Keep a copy of the prepared database as {TEMPLATE}.",
    )
    parser.add_argument(
        "--prepare-only", action="store_true", help="Prepare and save as --save-prepared; stop."
    )
    parser.add_argument(
        "--from-prepared",
        action="store_true",
        help=f"Start from {TEMPLATE} (saved by --save-prepared) instead of preparing.",
    )
    parser.add_argument(
        "--credited",
        type=int,
        default=0,
        help="Payers of the first N parcels hold KES 100 of credit each (earlier "
        "overpayments), which the run uses on their new bills.",
    )
    args = parser.parse_args()
    n = args.parcels

    if args.reuse:
        print(f"Reusing {DATABASE}: billing resumes the year's unfinished run.", flush=True)
    elif args.from_prepared:
        print(f"Copying {TEMPLATE} (prepared earlier) to {DATABASE} ...", flush=True)
        recreate_database(template=TEMPLATE)
        if Parcel.objects.count() != n:
            sys.exit(f"{TEMPLATE} does not hold {n:,} parcels; prepare it with --save-prepared")
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")  # the copy's own writes are not billing's
    else:
        print(f"Preparing {n:,} parcels, owners and roll entries in {DATABASE} ...", flush=True)
        recreate_database()
        started = time.perf_counter()
        prepare(n, args.seed)
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")  # as after a copy: preparing's writes are not billing's
        print(f"  prepared in {time.perf_counter() - started:.1f} s", flush=True)
        if args.save_prepared or args.prepare_only:
            recreate_database(name=TEMPLATE, template=DATABASE)
            print(f"  saved as {TEMPLATE} (for --from-prepared)", flush=True)
        if args.prepare_only:
            return

    if args.kill_after:
        crash_and_resume(n, args.kill_after, args.chunk_size, args.workers)
        return
    holders = hold_credit(args.credited) if args.credited else 0
    print(f"Load before billing: {load_average()}", flush=True)
    last_print = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last_print[0] > 2 or done == total:
            last_print[0] = now
            print(f"  billed {done:,}/{total:,}", flush=True)

    bills_before = Bill.objects.filter(source_type="land.rates").count()
    started = time.perf_counter()
    with CpuMeter() as billing_cpu:
        run = bill_rates(
            financial_year=FY,
            actor=None,
            chunk_size=args.chunk_size,
            on_progress=progress,
            workers=args.workers,
        )
    billing_seconds = time.perf_counter() - started
    print(f"Load after billing: {load_average()}", flush=True)

    billed_now = Bill.objects.filter(source_type="land.rates").count() - bills_before
    with CpuMeter() as copy_cpu:
        copy_seconds = copy_baseline(billed_now or n)
    bill_table_seconds = copy_into_bill_table(billed_now or n)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE payments_bill")

    bills = Bill.objects.filter(source_type="land.rates").count()
    charges = ParcelCharge.objects.count()
    balanced = get_trial_balance().is_balanced
    picker = random.Random(args.seed)  # noqa: S311  (a sample, not a secret)
    ids = picker.sample(range(1, n + 1), min(args.statements, n))
    timings = []
    for parcel_id in ids:
        t0 = time.perf_counter()
        parcel = Parcel.objects.get(pk=parcel_id)
        statement = parcel_statement(parcel=parcel)
        timings.append((time.perf_counter() - t0) * 1000)
        assert statement.balance > 0
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]

    ratio = billing_seconds / copy_seconds
    print()
    print(f"Parcels:                 {n:,}")
    print(
        f"Billing:                 {billed_now:,} bills in {billing_seconds:.1f} s, "
        f"{billed_now / billing_seconds:,.0f} bills/s"
    )
    copied = billed_now or n
    print(f"COPY of {copied:,} rows:  {copy_seconds:.1f} s, {copied / copy_seconds:,.0f} rows/s")
    print(f"Ratio billing / COPY:    {ratio:.1f} (goal: at most {GOAL_RATIO:.0f})")
    print(
        f"CPU (bench + its backends): billing {billing_cpu.seconds:.1f} s with "
        f"{args.workers} worker(s), COPY {copy_cpu.seconds:.1f} s; ratio "
        f"{billing_cpu.seconds / copy_cpu.seconds:.1f}, or {billing_cpu.seconds / 2 / copy_cpu.seconds:.1f}"
        " if spread over 2 cores"
    )
    print(
        f"COPY into payments_bill: {bill_table_seconds:.1f} s "
        f"({bill_table_seconds / copy_seconds:.1f} x the bare COPY; rolled back)"
    )
    print(f"Statement (ms):          median {statistics.median(timings):.1f}, p95 {p95:.1f}")
    print(f"Bills: {bills:,}  charges: {charges:,}  trial balance zero: {balanced}")
    print(f"Load at the end: {load_average()}")
    ok = bills == n and charges == n and balanced and run.bills_created == n
    if args.credited:
        used = Allocation.objects.filter(from_credit=True).aggregate(total=Sum("amount"))["total"]
        print(f"Credit used: KES {used or 0:,} on the bills of {holders:,} payers")
        ok = ok and used == CREDIT_HELD * holders
    print(f"Run: {run.bills_created:,} bills over all its starts")
    if args.penalties:
        ok = time_penalties(n) and ok
    print("CHECKS", "PASSED" if ok else "FAILED")
    sys.exit(0 if ok else 1)


def time_penalties(n: int) -> bool:
    """The monthly penalty run for October 2026, when every bill of the year is unpaid
    (due 30 September): one penalty per parcel, in batches. True when its checks pass."""
    started = time.perf_counter()
    with CpuMeter() as cpu:
        result = apply_monthly_penalties(month=date(2026, 10, 1), actor=None)
    seconds = time.perf_counter() - started
    charged = ParcelCharge.objects.filter(kind=ChargeKind.PENALTY).count()
    balanced = get_trial_balance().is_balanced
    print(
        f"Penalties:               {result.penalties_charged:,} in {seconds:.1f} s, "
        f"{1000 * seconds / max(result.penalties_charged, 1):.2f} ms each "
        f"(CPU {cpu.seconds:.1f} s); KES {result.amount:,}"
    )
    print(f"Penalty charges: {charged:,}  trial balance zero: {balanced}")
    return result.penalties_charged == charged == n and balanced


if __name__ == "__main__":
    main()
