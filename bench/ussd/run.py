"""USSD steps per second and their latency with many sessions at once (bench/ussd/README.md).

Against gunicorn serving Kaunti (DEBUG off, as in production) on a dedicated PostgreSQL
database with Redis as cache (session state, languages, rate limits) and Celery broker:
raise N open bills through the services, then run S USSD sessions, C at a time, each a
new caller walking "pay a bill" to its END screen over Africa's Talking's exact form:
choose English (first use), 1 (pay a bill), the bill number, 1 (pay). Between steps a
caller "thinks" (`--think` seconds on average; 0 for a saturation run).

Afterwards check that every session ended with the M-Pesa prompt message, that exactly
one prompt request was stored per session, for the right bill, phone and channel, and that
no prompt was sent inside a step: the send is a Celery task queued to Redis (no worker
runs here), so every request is still "requested" with no CheckoutRequestID. The queue
is emptied at the end.

    .venv/bin/python bench/ussd/run.py --sessions 1000 --concurrency 200 --workers 2

Needs PostgreSQL and Redis on 127.0.0.1 (as CI); the database `kaunti_ussd_bench` is
dropped and recreated. Gunicorn is started here and stopped at the end.
"""

import argparse
import asyncio
import json
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import django
import httpx
import psycopg
import redis
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
DATABASE = os.environ.get("BENCH_DATABASE", "kaunti_ussd_bench")
SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379")
CACHE_DB, BROKER_DB = 7, 8
GOAL_P99_MS = 100.0
ENDED = "END You will get an M-Pesa prompt for KES "

AT_TOKEN = "bench-ussd-token-2b8e5c"  # noqa: S105  (a local benchmark's callback token)

BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "kaunti.settings",
    "DATABASE_URL": f"{SERVER}/{DATABASE}?conn_max_age=600",
    "REDIS_URL": f"{REDIS}/{CACHE_DB}",
    "CELERY_BROKER_URL": f"{REDIS}/{BROKER_DB}",
    "DEBUG": "0",
    "SECRET_KEY": "bench-only-secret-key-" + "u" * 40,
    "ALLOWED_HOSTS": "127.0.0.1",
    "MPESA_CALLBACK_TOKEN": "bench-callback-token-7d1e4b",
    "AFRICASTALKING_CALLBACK_TOKEN": AT_TOKEN,
    "SECURE_SSL_REDIRECT": "0",
    "SMS_BACKEND": "console",
}
os.environ.update(BENCH_ENV)
sys.path.insert(0, str(ROOT))
django.setup()
logging.getLogger("httpx").setLevel(logging.WARNING)

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench.common import (  # noqa: E402
    database_cpu,
    free_port,
    start_gunicorn,
    stop,
    tree_cpu,
)
from kaunti.core.models import Department, Ward  # noqa: E402
from kaunti.core.reference_data import load_reference_data  # noqa: E402
from kaunti.ledger.services import load_chart_of_accounts  # noqa: E402
from kaunti.payments.models import StkRequest  # noqa: E402
from kaunti.payments.services.bills import LineInput, Payer, create_bill  # noqa: E402
from kaunti.payments.services.price_list import load_price_list  # noqa: E402


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    endings: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    phones: dict[str, str] = field(default_factory=dict)  # phone -> bill number


def recreate_database() -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))


def prepare(bill_count: int, seed: int) -> list[str]:
    """Migrate, load the county's data, raise the bills; returns their numbers."""
    call_command("migrate", verbosity=0, interactive=False)
    load_reference_data(county_code="018")
    load_chart_of_accounts()
    load_price_list(county_code="018")
    trade = Department.objects.get(code="trade")
    wards = list(Ward.objects.all()[:25])
    rng = random.Random(seed)  # noqa: S311  (made-up benchmark data)
    numbers = []
    for index in range(bill_count):
        bill = create_bill(
            payer=Payer(name=f"Bench Payer {index}", phone="", id_number=str(30_000_000 + index)),
            lines=[LineInput("market-fee", quantity=Decimal(rng.randint(1, 20)))],
            department=trade,
            ward=rng.choice(wards),
            due_on=date.today() + timedelta(days=30),
            description="Market fees",
            actor=None,
        )
        numbers.append(bill.number)
    connection.close()
    return numbers


def redis_cpu() -> float:
    info = cast(dict[str, Any], redis.Redis.from_url(REDIS).info("cpu"))
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


async def run_sessions(
    bills: list[str],
    *,
    url: str,
    sessions: int,
    concurrency: int,
    think: float,
    first_phone: int,
    seed: int,
) -> tuple[Results, float]:
    """`sessions` callers, `concurrency` at a time, each paying one bill to the END."""
    results = Results()
    rng = random.Random(seed)  # noqa: S311  (think times)
    gate = asyncio.Semaphore(concurrency)
    # Idle connections are dropped before gunicorn's keep-alive (5 s) closes them, else a
    # step sent just as the server closes its connection fails (a client artefact).
    limits = httpx.Limits(
        max_connections=concurrency, max_keepalive_connections=concurrency, keepalive_expiry=4.0
    )
    async with httpx.AsyncClient(limits=limits, timeout=30.0) as http:

        async def session(index: int) -> None:
            phone = f"+2547{first_phone + index:08d}"
            bill = bills[index % len(bills)]
            answers = ["", "1", "1", bill, "1"]  # dial, English, pay a bill, number, pay
            results.phones[phone[1:]] = bill
            async with gate:
                # Callers dial at random moments, not all in the same instant.
                if think:
                    await asyncio.sleep(rng.uniform(0, think))
                inputs: list[str] = []
                screen = ""
                for step, answer in enumerate(answers):
                    if step:
                        inputs.append(answer)
                        if think:
                            await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))
                    form = {
                        "sessionId": f"ATUid_bench_{first_phone}_{index}",
                        "serviceCode": "*000*18#",
                        "phoneNumber": phone,
                        "networkCode": "63902",
                        "text": "*".join(inputs),
                    }
                    started = time.perf_counter()
                    try:
                        response = await http.post(url, data=form)
                    except httpx.HTTPError as exc:
                        results.errors[type(exc).__name__] += 1
                        return
                    results.latencies.append(time.perf_counter() - started)
                    results.statuses[response.status_code] += 1
                    screen = response.text
                    if len(screen) > 182 or not screen.startswith(("CON ", "END ")):
                        results.errors["bad screen"] += 1
                        return
                    if screen.startswith("END ") and step < len(answers) - 1:
                        break
                results.endings["paid" if screen.startswith(ENDED) else screen[:60]] += 1

        started = time.perf_counter()
        await asyncio.gather(*(session(index) for index in range(sessions)))
        elapsed = time.perf_counter() - started
    return results, elapsed


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def check(results: Results, sessions: int) -> list[str]:
    """Exactly one stored prompt request per session, and none sent inside a step."""
    problems = []
    if results.endings["paid"] != sessions:
        problems.append(f"sessions ended wrongly: {dict(results.endings)}")
    if results.errors:
        problems.append(f"errors: {dict(results.errors)}")
    requests = list(
        StkRequest.objects.filter(phone__in=list(results.phones)).values_list(
            "phone", "bill__number", "channel", "status", "checkout_request_id"
        )
    )
    if len(requests) != sessions:
        problems.append(f"{len(requests)} prompt requests stored for {sessions} sessions")
    for phone, bill, channel, status, checkout in requests:
        if results.phones.get(phone) != bill or channel != "ussd":
            problems.append(f"prompt for {phone} names bill {bill} on channel {channel}")
            break
        if status != "requested" or checkout:
            problems.append(f"a prompt was sent inside a step ({status}, {checkout})")
            break
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bills", type=int, default=1000, help="open bills to pay")
    parser.add_argument("--sessions", type=int, default=1000, help="USSD sessions in all")
    parser.add_argument("--concurrency", type=int, default=200, help="sessions at once")
    parser.add_argument("--think", type=float, default=5.0, help="mean seconds between steps")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    print(f"preparing {DATABASE}: migrate, reference data, {args.bills} bills ...", flush=True)
    recreate_database()
    bills = prepare(args.bills, args.seed)
    broker = redis.Redis.from_url(f"{REDIS}/{BROKER_DB}")
    cache = redis.Redis.from_url(f"{REDIS}/{CACHE_DB}")
    broker.flushdb()
    cache.flushdb()
    port = free_port()
    log = Path(tempfile.gettempdir()) / "kaunti-ussd-bench-gunicorn.log"
    server = start_gunicorn(
        env=BENCH_ENV, port=port, workers=args.workers, threads=args.threads, log=log
    )
    url = f"http://127.0.0.1:{port}/ussd/africastalking/?token={AT_TOKEN}"
    try:
        print("warming up (50 sessions) ...", flush=True)
        asyncio.run(
            run_sessions(
                bills,
                url=url,
                sessions=50,
                concurrency=50,
                think=0.0,
                first_phone=90_000_000,
                seed=args.seed,
            )
        )
        print(
            f"running {args.sessions} sessions, {args.concurrency} at a time, "
            f"think {args.think} s ...",
            flush=True,
        )
        load_before = os.getloadavg()
        cpu_before = (tree_cpu(server), database_cpu(server=SERVER, database=DATABASE), redis_cpu())
        results, elapsed = asyncio.run(
            run_sessions(
                bills,
                url=url,
                sessions=args.sessions,
                concurrency=args.concurrency,
                think=args.think,
                first_phone=10_000_000,
                seed=args.seed,
            )
        )
        load_after = os.getloadavg()
        cpu_after = (tree_cpu(server), database_cpu(server=SERVER, database=DATABASE), redis_cpu())
    finally:
        stop(server)
    problems = check(results, args.sessions)
    queued = broker.llen("celery")
    broker.flushdb()
    latencies_ms = [value * 1000 for value in results.latencies]
    figures = {
        "sessions": args.sessions,
        "concurrency": args.concurrency,
        "think_seconds": args.think,
        "gunicorn": f"{args.workers} workers x {args.threads} threads",
        "hops": len(latencies_ms),
        "seconds": round(elapsed, 2),
        "hops_per_second": round(len(latencies_ms) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies_ms), 1),
        "p95_ms": round(percentile(latencies_ms, 0.95), 1),
        "p99_ms": round(percentile(latencies_ms, 0.99), 1),
        "max_ms": round(max(latencies_ms), 1),
        "prompt_tasks_left_queued": queued,
        # Server CPU per step: gunicorn, PostgreSQL backends, Redis (all of its clients).
        "cpu_ms_per_step_app": round((cpu_after[0] - cpu_before[0]) * 1000 / len(latencies_ms), 2),
        "cpu_ms_per_step_postgres": round(
            (cpu_after[1] - cpu_before[1]) * 1000 / len(latencies_ms), 2
        ),
        "cpu_ms_per_step_redis": round(
            (cpu_after[2] - cpu_before[2]) * 1000 / len(latencies_ms), 2
        ),
        "load_average_before": [round(value, 2) for value in load_before],
        "load_average_after": [round(value, 2) for value in load_after],
        "cpus": os.cpu_count(),
    }
    print(json.dumps(figures, indent=2))
    verdict = "met" if figures["p99_ms"] < GOAL_P99_MS else "NOT met"
    print(f"goal p99 < {GOAL_P99_MS:.0f} ms: {verdict}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    if problems:
        print("CHECKS FAILED:\n  " + "\n  ".join(problems))
        sys.exit(1)
    print(
        f"checks passed: {args.sessions} sessions ended with the M-Pesa prompt message, one "
        "stored prompt each, none sent inside a step"
    )


if __name__ == "__main__":
    main()
