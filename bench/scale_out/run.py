"""Scale-out: one app node against two, behind nginx, on one machine (bench/scale_out/README.md).

For one node and then two (each gunicorn.conf.py with `--workers` workers, one Celery
worker per node, one beat, nginx balancing), on a fresh database with a small county
(bench/scale_out/fixture.py), measures:

  - paybill confirmations per second: Daraja's JSON through nginx, `--clients` at a time,
    until every one is answered; and how long until all are recorded as payments;
  - application lifecycles per second (bench/applications/lifecycle.py) through nginx;
  - CPU per lifecycle of gunicorn, Celery and PostgreSQL (utime + stime from /proc, the
    process trees and the database's backends, before and after);
  - lock waits under the lifecycle load: pg_stat_activity sampled every 50 ms for the
    database's backends waiting on a lock (wait_event_type = 'Lock'), summed into seconds
    of waiting, per lifecycle and per committed transaction;

and then the memory of the whole stack at rest (one node, one worker, beat, PostgreSQL's
server processes and the database's backends, Redis; PSS from /proc/*/smaps_rollup) on
`--memory-database` (a database with the demo data: `manage.py load_demo_data`), after
a few pages have been served. Compares with bench/scale_out/baseline.json (same machine)
when it exists; `--save-baseline` writes it.

    .venv/bin/python bench/scale_out/run.py --memory-database kaunti_demo

Ports 8540-8545, database kaunti_scale_out_bench (recreated), Redis databases 12 and 13
(flushed). About two minutes.
"""

import argparse
import asyncio
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import django
import httpx
import psycopg
import redis

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.scale_out import load  # noqa: E402
from bench.scale_out.fixture import County, prepare  # noqa: E402
from bench.scale_out.stack import (  # noqa: E402
    REDIS,
    SERVER,
    Stack,
    cpu_seconds,
    postgres_pids,
    pss_bytes,
    recreate_database,
    redis_pid,
    stack_env,
)

BASELINE = Path(__file__).with_name("baseline.json")
MPESA_TOKEN = "scale-out-mpesa-token-9a1f"  # noqa: S105  (a local benchmark's path token)
AT_TOKEN = "scale-out-at-token-" + "f" * 20
MEMORY_GOAL = 1024**3  # the whole stack at rest, under 1 GiB


@dataclass
class Figures:
    nodes: int
    confirmations_per_s: float
    confirmations_recorded_after_s: float
    lifecycles_per_s: float
    lifecycles_failed: int
    gunicorn_ms_per_lifecycle: float
    celery_ms_per_lifecycle: float
    postgres_ms_per_lifecycle: float
    lock_wait_ms_per_lifecycle: float
    lock_wait_ms_per_transaction: float
    lock_samples_with_waiters: float  # share of samples
    lock_waits_by_event: dict[str, float]  # ms per lifecycle, by what was waited for
    transactions_per_lifecycle: float
    requests_per_lifecycle: float
    lifecycle_p50_s: float
    payment_wait_p50_s: float  # from the confirmation's answer to the payment seen recorded


class LockSampler(threading.Thread):
    """Backends of one database waiting on a heavyweight lock, every `interval` seconds."""

    def __init__(self, database: str, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.database, self.interval = database, interval
        self.samples = self.with_waiters = self.waiting = 0
        self.by_event: Counter[str] = Counter()  # advisory, transactionid, relation, tuple
        self.done = threading.Event()

    def run(self) -> None:
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
            while not self.done.is_set():
                rows = conn.execute(
                    "SELECT wait_event, count(*) FROM pg_stat_activity WHERE datname = %s "
                    "AND wait_event_type = 'Lock' GROUP BY wait_event",
                    [self.database],
                ).fetchall()
                waiting = sum(int(count) for _, count in rows)
                for event, count in rows:
                    self.by_event[str(event)] += int(count)
                self.samples += 1
                self.with_waiters += waiting > 0
                self.waiting += waiting
                time.sleep(self.interval)

    def seconds_waited(self) -> float:
        return self.waiting * self.interval


def commits(database: str) -> int:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = %s", [database]
        ).fetchone()
    return int(row[0]) if row else 0


def backend_cpu(database: str) -> dict[int, float]:
    return {pid: cpu_seconds(pid) for pid in postgres_pids(database)[1]}


def waiting_confirmations(database: str) -> int:
    with psycopg.connect(f"{SERVER}/{database}", autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM payments_inboundcallback "
            "WHERE kind = 'mpesa_c2b_confirmation' AND status = 'received'"
        ).fetchone()
    return int(row[0]) if row else 0


def start(stack: Stack, nodes: int, workers: int, port: int) -> list[str]:
    names = []
    for index in range(nodes):
        name = f"node-{index}"
        stack.start_node(name, port + 1 + index, workers=workers)
        stack.start_worker(f"worker-{index}")
        names.append(name)
    stack.start_beat()
    stack.start_nginx(port, names)
    stack.wait_healthy([*names, "nginx"])
    return names


def measure(
    arguments: argparse.Namespace, env: dict[str, str], county: County, nodes: int, first: int
) -> Figures:
    database = arguments.database
    stack = Stack(env=env, workdir=Path(tempfile.mkdtemp(prefix=f"kaunti-scale-{nodes}-")))
    port = arguments.port
    try:
        names = start(stack, nodes, arguments.workers, port)
        workers = [f"worker-{index}" for index in range(nodes)]
        tokens, bills = county.tokens, county.bills
        asyncio.run(
            load.lifecycles(
                port=port, token=MPESA_TOKEN, tokens=tokens, first=first, count=4, clients=2
            )
        )
        trans_ids = [f"TS{nodes}{n:07d}" for n in range(arguments.confirmations)]
        paybill = asyncio.run(
            load.paybill(
                port=port,
                token=MPESA_TOKEN,
                trans_ids=trans_ids,
                bills=bills,
                clients=arguments.clients,
            )
        )
        answered = time.perf_counter()
        while waiting_confirmations(database) and time.perf_counter() - answered < 120:
            time.sleep(0.2)
        recorded_after = time.perf_counter() - answered

        cpu_before = stack.cpu(*names), stack.cpu(*workers)
        database_before, commits_before = backend_cpu(database), commits(database)
        sampler = LockSampler(database)
        sampler.start()
        results, elapsed = asyncio.run(
            load.lifecycles(
                port=port,
                token=MPESA_TOKEN,
                tokens=tokens,
                first=first + 10,
                count=arguments.lifecycles,
                clients=arguments.lifecycle_clients,
            )
        )
        sampler.done.set()
        sampler.join()
        gunicorn_cpu = stack.cpu(*names) - cpu_before[0]
        celery_cpu = stack.cpu(*workers) - cpu_before[1]
        database_after = backend_cpu(database)
        postgres_cpu = sum(
            used - database_before.get(pid, 0.0) for pid, used in database_after.items()
        )
        committed = commits(database) - commits_before
    finally:
        stack.stop_all()
        shutil.rmtree(stack.workdir, ignore_errors=True)
    done = max(results.completed, 1)
    return Figures(
        nodes=nodes,
        confirmations_per_s=len(paybill.acknowledged) / paybill.elapsed,
        confirmations_recorded_after_s=recorded_after,
        lifecycles_per_s=results.completed / elapsed,
        lifecycles_failed=sum(results.failed.values()),
        gunicorn_ms_per_lifecycle=1000 * gunicorn_cpu / done,
        celery_ms_per_lifecycle=1000 * celery_cpu / done,
        postgres_ms_per_lifecycle=1000 * postgres_cpu / done,
        lock_wait_ms_per_lifecycle=1000 * sampler.seconds_waited() / done,
        lock_wait_ms_per_transaction=1000 * sampler.seconds_waited() / max(committed, 1),
        lock_samples_with_waiters=sampler.with_waiters / max(sampler.samples, 1),
        lock_waits_by_event={
            event: 1000 * count * sampler.interval / done
            for event, count in sampler.by_event.most_common()
        },
        transactions_per_lifecycle=committed / done,
        requests_per_lifecycle=results.requests / done,
        lifecycle_p50_s=statistics.median(results.durations or [0.0]),
        payment_wait_p50_s=statistics.median(results.payment_waits or [0.0]),
    )


def memory_at_rest(arguments: argparse.Namespace, env: dict[str, str]) -> dict[str, float]:
    """PSS (MiB) of a one-node stack at rest on `--memory-database`, after a few pages."""
    database = arguments.memory_database or arguments.database
    memory_env = {**env, "DATABASE_URL": f"{SERVER}/{database}?conn_max_age=600"}
    stack = Stack(env=memory_env, workdir=Path(tempfile.mkdtemp(prefix="kaunti-scale-mem-")))
    port = arguments.port
    try:
        start(stack, 1, arguments.workers, port)
        for path in ("/", "/services/", "/api/v1/services/", "/api/v1/wards/", "/verify/"):
            for _ in range(3):
                httpx.get(f"http://127.0.0.1:{port}{path}", timeout=30)
        time.sleep(3)
        server, backends = postgres_pids(database)
        redis_server = redis_pid()
        parts = {
            "web (gunicorn)": stack.pids("node-0"),
            "worker (Celery)": stack.pids("worker-0"),
            "beat": stack.pids("beat"),
            "PostgreSQL (server + this database's backends)": server + backends,
            "Redis": [redis_server] if redis_server else [],
            "nginx": stack.pids("nginx"),
        }
        figures = {name: pss_bytes(pids)[0] / 2**20 for name, pids in parts.items()}
    finally:
        stack.stop_all()
        shutil.rmtree(stack.workdir, ignore_errors=True)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="kaunti_scale_out_bench")
    parser.add_argument("--memory-database", default="", help="one with the demo data")
    parser.add_argument("--port", type=int, default=8540)
    parser.add_argument("--cache-db", type=int, default=12)
    parser.add_argument("--broker-db", type=int, default=13)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per node")
    parser.add_argument("--confirmations", type=int, default=600)
    parser.add_argument("--clients", type=int, default=8, help="confirmations at a time")
    parser.add_argument("--lifecycles", type=int, default=60)
    parser.add_argument("--lifecycle-clients", type=int, default=4)
    parser.add_argument("--nodes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--no-memory", action="store_true", help="skip the memory at rest")
    parser.add_argument("--save-baseline", action="store_true")
    arguments = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="kaunti-scale-out-"))
    env = stack_env(
        database=arguments.database,
        cache_db=arguments.cache_db,
        broker_db=arguments.broker_db,
        media=workdir / "media",
        mpesa_token=MPESA_TOKEN,
        at_token=AT_TOKEN,
    )
    env["API_THROTTLE_ANON"] = "1000000/minute"
    for name in ("KAUNTI_TESTING", "DATABASE_REPLICA_URL"):
        os.environ.pop(name, None)
    os.environ.update(env)
    django.setup()
    logging.getLogger("kaunti.eservices.services.catalogue_data").setLevel(logging.ERROR)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    print(f"database {arguments.database}: recreating, a small county...")
    recreate_database(arguments.database)
    for number in (arguments.cache_db, arguments.broker_db):
        redis.Redis.from_url(f"{REDIS}/{number}").flushdb()
    county = prepare()
    measures = []
    for nodes in arguments.nodes:
        print(
            f"{nodes} node(s) x {arguments.workers} gunicorn workers, {nodes} Celery worker(s), "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs..."
        )
        figures = measure(arguments, env, county, nodes, first=1 + 1000 * nodes)
        measures.append(figures)
        print(
            f"  {figures.confirmations_per_s:.0f} confirmations/s (all recorded "
            f"{figures.confirmations_recorded_after_s:.1f} s after the last answer); "
            f"{figures.lifecycles_per_s:.1f} lifecycles/s ({figures.lifecycles_failed} failed; "
            f"p50 {figures.lifecycle_p50_s:.2f} s, of which {figures.payment_wait_p50_s:.2f} s "
            f"waiting for the payment; {figures.requests_per_lifecycle:.1f} requests each); "
            f"CPU per lifecycle: gunicorn {figures.gunicorn_ms_per_lifecycle:.0f} ms, Celery "
            f"{figures.celery_ms_per_lifecycle:.0f} ms, PostgreSQL "
            f"{figures.postgres_ms_per_lifecycle:.0f} ms; lock wait "
            f"{figures.lock_wait_ms_per_lifecycle:.2f} ms per lifecycle, "
            f"{figures.lock_wait_ms_per_transaction:.3f} ms per committed transaction "
            f"({figures.transactions_per_lifecycle:.0f} per lifecycle; waiters in "
            f"{figures.lock_samples_with_waiters:.1%} of samples; ms per lifecycle by lock: "
            + ", ".join(f"{k} {v:.1f}" for k, v in figures.lock_waits_by_event.items())
            + ")"
        )
    memory = {} if arguments.no_memory else memory_at_rest(arguments, env)
    total = sum(memory.values())
    if memory:
        print(f"memory at rest, PSS, on {arguments.memory_database or arguments.database}:")
        for name, mib in memory.items():
            print(f"  {name:<48} {mib:7.1f} MiB")
        met = "met" if total * 2**20 < MEMORY_GOAL else "NOT met"
        print(
            f"  {'the whole stack':<48} {total:7.1f} MiB "
            f"(goal under {MEMORY_GOAL / 2**20:.0f} MiB: {met})"
        )
    if len(measures) == 2:
        one, two = measures
        print(
            f"{two.nodes} nodes / {one.nodes}: confirmations "
            f"{two.confirmations_per_s / one.confirmations_per_s:.2f}x, lifecycles "
            f"{two.lifecycles_per_s / max(one.lifecycles_per_s, 1e-9):.2f}x (one machine of "
            f"{os.cpu_count()} CPUs: a second node adds processes, not cores)"
        )
    current = {"measures": [asdict(m) for m in measures], "memory_mib": memory}
    if BASELINE.exists():
        base = json.loads(BASELINE.read_text())
        earlier = {measure["nodes"]: measure for measure in base["measures"]}
        for new in current["measures"]:
            if new["nodes"] not in earlier:
                continue
            old = earlier[new["nodes"]]
            print(
                f"against the baseline, {new['nodes']} node(s): confirmations/s "
                f"{new['confirmations_per_s'] / old['confirmations_per_s']:.2f}x, lifecycles/s "
                f"{new['lifecycles_per_s'] / max(old['lifecycles_per_s'], 1e-9):.2f}x, gunicorn "
                f"CPU per lifecycle {new['gunicorn_ms_per_lifecycle']:.0f} ms "
                f"(was {old['gunicorn_ms_per_lifecycle']:.0f})"
            )
        if memory:
            was = sum(base["memory_mib"].values())
            print(f"memory at rest {total:.0f} MiB (was {was:.0f} MiB)")
    shutil.rmtree(workdir, ignore_errors=True)
    if arguments.save_baseline:
        BASELINE.write_text(json.dumps(current, indent=2) + "\n")
        print(f"baseline written to {BASELINE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
