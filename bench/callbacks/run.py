"""How many M-Pesa paybill confirmations per second does Kaunti record, exactly once?
(bench/callbacks/README.md)

Against gunicorn serving Kaunti (DEBUG off, as in production) on a dedicated PostgreSQL
database: raise N open bills through the services, then POST Safaricom's C2B
confirmation JSON over loopback HTTP from a pool of concurrent clients: one per bill, plus
10% exact repeats later on and a few TransIDs delivered by several clients at the same
moment. Afterwards check exactly-once (payments = distinct TransIDs, gapless receipts,
one journal entry each) and a zero trial balance, and print confirmations per second.
Then, as the machine's baseline, pgbench runs the minimal equivalent transaction (insert
one payment-like row with a unique reference) with as many clients.

    .venv/bin/python bench/callbacks/run.py --bills 3000 --clients 8 --workers 2 --threads 2

Needs PostgreSQL and Redis on 127.0.0.1 (as CI); the database `kaunti_callbacks_bench` is
dropped and recreated. Gunicorn is started here and stopped at the end. Tasks (the SMS
to each payer) are queued to Redis as in production, not run; the queue is emptied after.
"""

import argparse
import asyncio
import json
import logging
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import django
import psycopg
import redis
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
DATABASE = os.environ.get("BENCH_DATABASE", "kaunti_callbacks_bench")
SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379")
CACHE_DB, BROKER_DB = 11, 12
TOKEN = "bench-callback-token-9f3c2a"  # noqa: S105  (a local benchmark's path token)
PGBENCH = shutil.which("pgbench") or "/usr/bin/pgbench"  # installed with PostgreSQL
GOAL = 500.0  # confirmations per second, on 2 cores

# The settings both this process and gunicorn run with: production's (DEBUG off).
BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "kaunti.settings",
    # Persistent connections (production keeps them 60 s; longer here, so the CPU of each
    # backend can still be read from /proc at the end of the run).
    "DATABASE_URL": f"{SERVER}/{DATABASE}?conn_max_age=600",
    "REDIS_URL": f"{REDIS}/{CACHE_DB}",
    "CELERY_BROKER_URL": f"{REDIS}/{BROKER_DB}",
    "DEBUG": "0",
    "SECRET_KEY": "bench-only-secret-key-" + "k" * 40,
    "ALLOWED_HOSTS": "127.0.0.1",
    "MPESA_CALLBACK_TOKEN": TOKEN,
    "AFRICASTALKING_CALLBACK_TOKEN": "bench-callbacks-at-token-" + "c" * 20,
    "SECURE_SSL_REDIRECT": "0",
    "SMS_BACKEND": "console",
    # Keep-alive connections last the whole run: no worker recycling in the middle of it.
    "GUNICORN_MAX_REQUESTS": "0",
}
os.environ.update(BENCH_ENV)
sys.path.insert(0, str(ROOT))
django.setup()
logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request of the load

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench.common import (  # noqa: E402
    Connection,
    database_cpu,
    free_port,
    http_post,
    start_celery_worker,
    start_gunicorn,
    stop,
    tree_cpu,
)
from kaunti.core.models import Department, Ward  # noqa: E402
from kaunti.core.reference_data import load_reference_data  # noqa: E402
from kaunti.ledger.models import JournalEntry  # noqa: E402
from kaunti.ledger.selectors import get_trial_balance  # noqa: E402
from kaunti.ledger.services import load_chart_of_accounts  # noqa: E402
from kaunti.payments.models import (  # noqa: E402
    CallbackStatus,
    InboundCallback,
    Payment,
    Receipt,
)
from kaunti.payments.services.bills import LineInput, Payer, create_bill  # noqa: E402
from kaunti.payments.services.price_list import load_price_list  # noqa: E402

STREAMS = {  # stream -> its department; unit prices come from the price list or the bill
    "market-fee": "trade",
    "hawker-permit": "trade",
    "weights-measures": "trade",
    "produce-cess-potatoes": "agriculture",
    "produce-cess-milk": "agriculture",
    "livestock-movement": "agriculture",
    "food-handler": "health",
}


@dataclass(frozen=True)
class Delivery:
    """One POST of a confirmation; `together` posts are released at the same moment."""

    trans_id: str
    body: bytes


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    bad_answers: int = 0
    errors: Counter[str] = field(default_factory=Counter)


# --- Set-up ---------------------------------------------------------------------------------


def recreate_database() -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))


def prepare(bill_count: int, seed: int) -> list[tuple[str, Decimal]]:
    """Migrate, load the county's data, raise the bills; returns (number, total) per bill."""
    call_command("migrate", verbosity=0, interactive=False)
    load_reference_data(county_code="018")
    load_chart_of_accounts()
    load_price_list(county_code="018")
    departments = {d.code: d for d in Department.objects.filter(code__in=set(STREAMS.values()))}
    wards = list(Ward.objects.all()[:25])
    rng = random.Random(seed)  # noqa: S311  (made-up benchmark data, not secrets)
    bills = []
    for number in range(bill_count):
        stream = rng.choice(list(STREAMS))
        bill = create_bill(
            payer=Payer(
                name=f"Bench Payer {number}",
                phone=f"07{rng.randrange(10_000_000, 99_999_999)}",
                id_number=str(20_000_000 + number),
            ),
            lines=[LineInput(stream, quantity=Decimal(rng.randint(1, 20)))],
            department=departments[STREAMS[stream]],
            ward=rng.choice(wards),
            due_on=date.today() + timedelta(days=30),
            description="Benchmark bill",
            actor=None,
        )
        bills.append((bill.number, bill.total))
    connection.close()
    return bills


def confirmation(trans_id: str, account: str, amount: Decimal, at: str) -> bytes:
    """Exactly what Safaricom POSTs (shared/reference/kenya.md 1.5.2)."""
    return json.dumps(
        {
            "TransactionType": "Pay Bill",
            "TransID": trans_id,
            "TransTime": at,
            "TransAmount": f"{amount:.2f}",
            "BusinessShortCode": "600638",
            "BillRefNumber": account,
            "InvoiceNumber": "",
            "OrgAccountBalance": "",
            "ThirdPartyTransID": "",
            "MSISDN": "2547 ***** 126",
            "FirstName": "John",
            "MiddleName": "",
            "LastName": "Doe",
        }
    ).encode()


def schedule(
    bills: list[tuple[str, Decimal]], *, repeats: float, racing: float, racers: int, seed: int
) -> tuple[list[list[Delivery]], set[str]]:
    """Groups of deliveries in posting order (a group is posted all at once), and the
    distinct TransIDs. Most payments settle their bill; some pay part, some too much, and
    1% name a bill that does not exist (suspense)."""
    rng = random.Random(seed + 1)  # noqa: S311  (as above)
    at = time.strftime("%Y%m%d%H%M%S")
    first: list[Delivery] = []
    for position, (number, total) in enumerate(bills):
        roll = rng.random()
        if roll < 0.01:
            account, amount = "NOSUCHBILL", Decimal(rng.randint(10, 500))
        elif roll < 0.11:
            account, amount = number, (total / 2).quantize(Decimal("0.01"))
        elif roll < 0.16:
            account, amount = number, total + 100
        else:
            account, amount = number, total
        trans_id = f"TB{position:08d}"
        first.append(Delivery(trans_id, confirmation(trans_id, account, amount, at)))
    groups: list[list[Delivery]] = []
    for delivery in first:
        if rng.random() < racing:
            groups.append([delivery] * racers)  # the same TransID from several clients at once
        else:
            groups.append([delivery])
    rng.shuffle(groups)
    # Exact repeats, spread over the second half of the run (Safaricom retrying later).
    half = len(groups) // 2
    for delivery in rng.sample(first, round(len(first) * repeats)):
        groups.insert(rng.randint(half, len(groups)), [delivery])
    return groups, {delivery.trans_id for delivery in first}


# --- Gunicorn -------------------------------------------------------------------------------


# --- The load -------------------------------------------------------------------------------


ACKNOWLEDGEMENT = {"ResultCode": 0, "ResultDesc": "Success"}


async def post_all(
    groups: list[list[Delivery]], *, port: int, path: str, clients: int, max_seconds: float
) -> tuple[Results, float]:
    """Post every group with `clients` clients (a group's deliveries at the same moment,
    each on its own connection); stop early after `max_seconds`."""
    results = Results()
    queue: asyncio.Queue[list[Delivery]] = asyncio.Queue()
    for group in groups:
        queue.put_nowait(group)
    deadline = time.monotonic() + max_seconds

    async def post(connection: Connection, delivery: Delivery) -> None:
        started = time.perf_counter()
        try:
            status, body = await connection.post(http_post(path, delivery.body))
        except (OSError, asyncio.IncompleteReadError) as exc:
            connection.close()
            results.errors[type(exc).__name__] += 1
            return
        results.latencies.append(time.perf_counter() - started)
        results.statuses[status] += 1
        if status != 200 or json.loads(body) != ACKNOWLEDGEMENT:
            results.bad_answers += 1

    async def client() -> None:
        connections: list[Connection] = []
        try:
            while time.monotonic() < deadline:
                try:
                    group = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                while len(connections) < len(group):
                    connections.append(Connection(port))
                await asyncio.gather(
                    *(
                        post(connection, d)
                        for connection, d in zip(connections, group, strict=False)
                    )
                )
        finally:
            for connection in connections:
                connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    return results, elapsed


def wait_until_recorded(*, timeout: float) -> None:
    """Until no stored confirmation is left unrecorded (the workers drain them)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(f"{SERVER}/{DATABASE}", autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM payments_inboundcallback"
                " WHERE kind = 'mpesa_c2b_confirmation' AND status = 'received'"
            ).fetchone()
            if row is not None and row[0] == 0:
                return
            time.sleep(0.02)
    raise RuntimeError(f"confirmations still unrecorded after {timeout:.0f} s")


# --- Checks and the baseline ----------------------------------------------------------------


def check(trans_ids: set[str], posted: int) -> dict[str, object]:
    """Exactly once, and balanced books."""
    payments = Payment.objects.filter(provider="mpesa-c2b")
    references = list(payments.values_list("external_ref", flat=True))
    sequences = sorted(Receipt.objects.values_list("sequence", flat=True))
    callbacks = Counter(
        InboundCallback.objects.filter(kind="mpesa_c2b_confirmation").values_list(
            "status", flat=True
        )
    )
    trial_balance = get_trial_balance()
    facts: dict[str, object] = {
        "payments": len(references),
        "distinct_trans_ids": len(trans_ids),
        "exactly_once": sorted(references) == sorted(trans_ids),
        "receipts_gapless": sequences == list(range(1, len(references) + 1)),
        "journal_entries_for_payments": JournalEntry.objects.filter(source_type="payment").count(),
        "callbacks": dict(callbacks),
        "callbacks_all_answered": sum(callbacks.values()) == posted
        and callbacks.get(CallbackStatus.PROCESSED, 0) == len(trans_ids),
        "suspense": payments.filter(is_in_suspense=True).count(),
        "trial_balance_debit": str(trial_balance.total_debit),
        "trial_balance_credit": str(trial_balance.total_credit),
        "trial_balance_zero": trial_balance.is_balanced,
    }
    connection.close()
    return facts


BASELINE_INSERT = """
INSERT INTO bench_payment (reference, amount, paid_at, raw)
VALUES (gen_random_uuid()::text, 500.00, now(), '{"TransID": "TB00000001", "TransAmount": "500.00"}')
ON CONFLICT (reference) DO NOTHING;
"""
# The same, plus what a gapless receipt number costs: one counter row every payment locks
# until it commits (ReceiptSequence), so commits cannot overlap.
BASELINE_WITH_COUNTER = """
BEGIN;
INSERT INTO bench_payment (reference, amount, paid_at, raw)
VALUES (gen_random_uuid()::text, 500.00, now(), '{"TransID": "TB00000001", "TransAmount": "500.00"}')
ON CONFLICT (reference) DO NOTHING;
UPDATE bench_counter SET last_number = last_number + 1 WHERE id = 1;
COMMIT;
"""


def pgbench(*, clients: int, seconds: int, script: str) -> float:
    """TPS of `script` (the minimal equivalent of recording a payment) on this machine."""
    with psycopg.connect(f"{SERVER}/{DATABASE}", autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_payment ("
            " id bigserial PRIMARY KEY, reference varchar(64) NOT NULL UNIQUE,"
            " amount numeric(14, 2) NOT NULL CHECK (amount > 0),"
            " paid_at timestamptz NOT NULL, raw jsonb NOT NULL)"
        )
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_counter (id int PRIMARY KEY, last_number int)"
        )
        conn.execute("INSERT INTO bench_counter VALUES (1, 0) ON CONFLICT DO NOTHING")
    with tempfile.NamedTemporaryFile("w", suffix=".sql") as handle:
        handle.write(script)
        handle.flush()
        result = subprocess.run(  # noqa: S603  (fixed arguments)
            [
                PGBENCH,
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-n",
                "-c",
                str(clients),
                "-j",
                str(min(clients, os.cpu_count() or 1)),
                "-T",
                str(seconds),
                "-f",
                handle.name,
                DATABASE,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", result.stdout)
    if match is None:
        raise RuntimeError(f"could not read pgbench's TPS:\n{result.stdout}")
    return float(match.group(1))


def empty_redis() -> None:
    for number in (CACHE_DB, BROKER_DB):
        redis.Redis.from_url(f"{REDIS}/{number}").flushdb()


# --- Main -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bills", type=int, default=10000, help="open bills, one payment each")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument("--drainers", type=int, default=1, help="Celery worker processes")
    parser.add_argument("--repeats", type=float, default=0.10, help="share posted again later")
    parser.add_argument("--racing", type=float, default=0.02, help="share posted concurrently")
    parser.add_argument("--racers", type=int, default=4, help="clients racing on one TransID")
    parser.add_argument("--max-seconds", type=float, default=300.0, help="stop posting after")
    parser.add_argument("--pgbench-seconds", type=int, default=15)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    arguments = parser.parse_args()
    if not 1 <= arguments.bills <= 200_000 or not 1 <= arguments.clients <= 256:
        parser.error("--bills must be 1..200000 and --clients 1..256")

    print(f"database {DATABASE}: recreating, migrating, raising {arguments.bills} bills...")
    recreate_database()
    empty_redis()
    started = time.perf_counter()
    bills = prepare(arguments.bills, arguments.seed)
    print(f"  ready in {time.perf_counter() - started:.1f} s")
    groups, trans_ids = schedule(
        bills,
        repeats=arguments.repeats,
        racing=arguments.racing,
        racers=arguments.racers,
        seed=arguments.seed,
    )
    posted = sum(len(group) for group in groups)
    port = free_port()
    log = ROOT / "var" / "bench-callbacks-gunicorn.log"
    print(
        f"gunicorn: {arguments.workers} workers x {arguments.threads} threads on "
        f"127.0.0.1:{port} (log {log.relative_to(ROOT)}); load average before: "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    server = start_gunicorn(
        env=BENCH_ENV, port=port, workers=arguments.workers, threads=arguments.threads, log=log
    )
    worker = start_celery_worker(
        env=BENCH_ENV,
        concurrency=arguments.drainers,
        log=ROOT / "var" / "bench-callbacks-worker.log",
    )
    try:
        # Warm every worker and thread up (imports, connections) with requests that pay
        # nothing: validations of an unknown account.
        warm_path = f"/payments/mpesa/c2b/validation/{TOKEN}/"
        warm_body = confirmation("WARM", "NOSUCHBILL", Decimal(1), "20260101000000")
        asyncio.run(
            post_all(
                [[Delivery("WARM", warm_body)]] * 300,
                port=port,
                path=warm_path,
                clients=arguments.clients,
                max_seconds=60,
            )
        )
        path = f"/payments/mpesa/c2b/confirmation/{TOKEN}/"
        print(
            f"posting {posted} confirmations ({len(trans_ids)} TransIDs, "
            f"{arguments.repeats:.0%} repeated later, {arguments.racing:.0%} sent by "
            f"{arguments.racers} clients at once) with {arguments.clients} clients; "
            f"{arguments.drainers} Celery process(es) record them..."
        )
        app_before, worker_before = tree_cpu(server), tree_cpu(worker)
        database_before, client_before = (
            database_cpu(server=SERVER, database=DATABASE),
            time.process_time(),
        )
        started = time.perf_counter()
        results, posting = asyncio.run(
            post_all(
                groups,
                port=port,
                path=path,
                clients=arguments.clients,
                max_seconds=arguments.max_seconds,
            )
        )
        wait_until_recorded(timeout=arguments.max_seconds)
        elapsed = time.perf_counter() - started
        client_cpu = time.process_time() - client_before
        app_cpu = tree_cpu(server) - app_before
        worker_cpu = tree_cpu(worker) - worker_before
        database_cpu_used = database_cpu(server=SERVER, database=DATABASE) - database_before
        load = os.getloadavg()[0]
    finally:
        stop(server)
        stop(worker)
    answered = len(results.latencies)
    rate = answered / elapsed
    latencies = sorted(results.latencies) or [0.0]
    p50 = statistics.median(latencies) * 1000
    p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)] * 1000
    cpu_ms = {
        "gunicorn": app_cpu / answered * 1000,
        "celery": worker_cpu / answered * 1000,
        "postgresql": database_cpu_used / answered * 1000,
        "client": client_cpu / answered * 1000,
    }
    server_ms = cpu_ms["gunicorn"] + cpu_ms["celery"] + cpu_ms["postgresql"]
    print(
        f"  {answered} answered in {posting:.1f} s ({answered / posting:.0f}/s) and all "
        f"recorded {elapsed - posting:.2f} s later: {rate:.0f} confirmations/s end to end; "
        "answer latency p50 "
        f"{p50:.0f} ms, p95 {p95:.0f} ms, max {latencies[-1] * 1000:.0f} ms; statuses "
        f"{dict(results.statuses)}; errors {dict(results.errors)}; load average {load:.1f}"
    )
    print(
        "  CPU per confirmation: "
        + ", ".join(f"{name} {value:.1f} ms" for name, value in cpu_ms.items())
        + f"; server CPU alone would allow {(os.cpu_count() or 1) * 1000 / server_ms:.0f}/s "
        f"on {os.cpu_count()} idle CPUs"
    )
    facts = check(trans_ids, posted)
    print("checks: " + json.dumps(facts))
    seconds = arguments.pgbench_seconds
    print(f"pgbench: {arguments.clients} clients, {seconds} s each...")
    baseline = pgbench(clients=arguments.clients, seconds=seconds, script=BASELINE_INSERT)
    print(
        f"  one insert per transaction: {baseline:.0f} TPS; Kaunti records a confirmation at "
        f"{rate / baseline:.1%} of that (pgbench/Kaunti = {baseline / rate:.1f}x)"
    )
    serialised = pgbench(clients=arguments.clients, seconds=seconds, script=BASELINE_WITH_COUNTER)
    print(
        f"  the insert plus one shared counter row (a gapless number): {serialised:.0f} TPS; "
        f"Kaunti at {rate / serialised:.1%} of that"
    )
    empty_redis()
    complete = answered == posted and results.bad_answers == 0 and not results.errors
    correct = all(
        facts[name]
        for name in (
            "exactly_once",
            "receipts_gapless",
            "callbacks_all_answered",
            "trial_balance_zero",
        )
    )
    print(
        f"result: {rate:.0f}/s against a goal of {GOAL:.0f}/s; "
        f"{'all answered' if complete else 'NOT all answered'}; "
        f"{'exactly once and balanced' if correct else 'CHECKS FAILED'}"
    )
    if arguments.json:
        arguments.json.write_text(
            json.dumps(
                {
                    "arguments": {k: str(v) for k, v in vars(arguments).items()},
                    "cpus": os.cpu_count(),
                    "load_average_after": load,
                    "posted": posted,
                    "answered": answered,
                    "seconds": elapsed,
                    "seconds_posting": posting,
                    "confirmations_per_second": rate,
                    "p50_ms": p50,
                    "p95_ms": p95,
                    "cpu_ms_per_confirmation": cpu_ms,
                    "pgbench_insert_tps": baseline,
                    "pgbench_insert_with_counter_tps": serialised,
                    "checks": facts,
                },
                indent=2,
            )
        )
    if not (complete and correct):
        sys.exit(1)


if __name__ == "__main__":
    main()
