"""Concurrent write transactions that each record one audit event, on PostgreSQL.

    .venv/bin/python bench/audit_chain/run.py                      # this checkout's code
    .venv/bin/python bench/audit_chain/run.py --code /work/main    # another checkout's code

See README.md in this folder for what it does and the results.
"""

import argparse
import multiprocessing
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import psycopg
from psycopg import sql

HERE = Path(__file__).resolve().parents[2]
DATABASE = os.environ.get("BENCH_DATABASE", "kaunti_h_audit")
SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")


def _setup_django(code: Path) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "kaunti.settings",
            "DATABASE_URL": f"{SERVER}/{DATABASE}",
            "DEBUG": "0",
            "SECRET_KEY": "bench-only-secret-key-" + "a" * 40,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SMS_BACKEND": "console",
            "MPESA_CALLBACK_TOKEN": "bench-audit-token-" + "t" * 20,
            "AFRICASTALKING_CALLBACK_TOKEN": "bench-audit-at-token-" + "t" * 20,
            "SECURE_SSL_REDIRECT": "0",
        }
    )
    sys.path.insert(0, str(code))
    import django

    django.setup()


def _fresh_schema() -> None:
    """An empty `public` schema in the bench's database (its tables only: nothing else)."""
    with psycopg.connect(f"{SERVER}/{DATABASE}", autocommit=True) as admin:
        admin.execute("DROP SCHEMA public CASCADE")
        admin.execute("CREATE SCHEMA public")
        admin.execute(
            sql.SQL("GRANT ALL ON SCHEMA public TO {}").format(sql.Identifier("postgres"))
        )


def _writer(
    code: str, seconds: float, worker: int, results: "multiprocessing.Queue[object]"
) -> None:
    """One process: short transactions (a small row and one audit event) until time is up.
    Returns how many, and the time spent inside `record_event` (where the old code waits
    for the chain's lock)."""
    _setup_django(Path(code))
    from django.db import connection, transaction

    from kaunti.core.services.audit import record_event

    count, in_record = 0, 0.0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("INSERT INTO bench_row (worker, n) VALUES (%s, %s)", [worker, count])
            started = time.perf_counter()
            record_event(
                actor=None,
                action="bench.row_written",
                target_type="bench_row",
                target_id=f"{worker}/{count}",
                data={"worker": worker, "n": count},
            )
            in_record += time.perf_counter() - started
        count += 1
    connection.close()
    results.put((count, in_record))


def _sample_waits(stop: threading.Event, samples: list[int]) -> None:
    """Every 5 ms: how many backends wait for an advisory lock."""
    with psycopg.connect(f"{SERVER}/{DATABASE}", autocommit=True) as monitor:
        while not stop.is_set():
            row = monitor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                "AND wait_event_type = 'Lock' AND wait_event = 'advisory'",
                [DATABASE],
            ).fetchone()
            samples.append(int(row[0]) if row else 0)
            time.sleep(0.005)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--code", type=Path, default=HERE, help="The checkout to import.")
    parser.add_argument("--workers", type=int, default=8, help="Writer processes.")
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    code = args.code.resolve()

    _fresh_schema()
    _setup_django(code)
    from django.core.management import call_command
    from django.db import connection

    from kaunti.core.models import AuditEvent
    from kaunti.core.services import audit

    call_command("migrate", "core", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_row (id bigserial PRIMARY KEY, worker int, n int)")
    connection.close()

    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    processes = [
        context.Process(target=_writer, args=(str(code), args.seconds, worker, results))
        for worker in range(args.workers)
    ]
    stop, samples = threading.Event(), []  # type: ignore[var-annotated]
    monitor = threading.Thread(target=_sample_waits, args=(stop, samples))
    for process in processes:
        process.start()
    time.sleep(3)  # the processes import Django before they start writing
    monitor.start()
    started = time.monotonic()
    outcomes = [results.get(timeout=args.seconds + 120) for _ in processes]
    elapsed = time.monotonic() - started
    stop.set()
    monitor.join()
    for process in processes:
        process.join()

    transactions = sum(count for count, _ in outcomes)
    in_record = sum(seconds for _, seconds in outcomes)
    waiting = statistics.fmean(samples) if samples else 0.0
    sealer = getattr(audit, "seal_pending_events", None)
    unsealed = AuditEvent.objects.filter(seq__isnull=True).count() if sealer else 0
    if sealer is not None:
        sealer()
    broken = audit.find_first_broken_link()
    print(f"code: {code} ({'sequencer' if sealer else 'lock per write'})")
    print(f"writers: {args.workers} processes, {args.seconds:.0f} s each")
    print(
        f"transactions: {transactions} in {args.seconds:.0f} s = {transactions / args.seconds:.0f}/s"
    )
    print(f"mean time in record_event: {in_record / transactions * 1000:.2f} ms per transaction")
    print(
        f"backends waiting on an advisory lock: {waiting:.2f} on average "
        f"({len(samples)} samples) = {waiting * elapsed / transactions * 1000:.2f} ms "
        "of lock wait per transaction"
    )
    if sealer is not None:
        print(f"unsealed when the writers stopped: {unsealed}")
    print(f"events: {AuditEvent.objects.count()}; chain: {'intact' if broken is None else broken}")


if __name__ == "__main__":
    main()
