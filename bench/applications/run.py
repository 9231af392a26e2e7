"""Full application lifecycles per second, over HTTP, with 10 thousand and with 1 million
applications already stored (bench/applications/README.md).

One lifecycle is what a citizen and three officers do for a Unified Business Permit,
each request over loopback HTTP to gunicorn serving Kaunti (DEBUG off) on PostgreSQL:

    citizen   POST   /api/v1/applications/                      create the draft
    citizen   PATCH  /api/v1/applications/<ref>/                answers
    citizen   POST   /api/v1/applications/<ref>/documents/ x2   ID copy, KRA certificate
    citizen   POST   /api/v1/applications/<ref>/submit/         fee fixed, bill raised
    Safaricom POST   /payments/mpesa/c2b/confirmation/<token>/  pays the bill (the JSON the
                                                                Daraja simulator posts)
    approver  POST   .../steps/review/approve/
    inspector POST   .../steps/inspection-health/inspect/       passed
    inspector POST   .../steps/inspection-fire/inspect/         passed
    approver  POST   .../steps/approval/approve/                approved, permit issued
    citizen   GET    /api/v1/applications/<ref>/                status: issued

The stored applications are seeded with SQL (INSERT ... SELECT over generate_series,
server-side), not through the lifecycle: issued permits with their documents, steps and
timeline, plus some submitted, in review and draft.

    .venv/bin/python bench/applications/run.py --sizes 10000 1000000 --lifecycles 300

Needs PostgreSQL and Redis on 127.0.0.1; the database `kaunti_applications_bench` is
dropped and recreated. Gunicorn and a Celery worker (which records the paybill
confirmations in batches, ADR 7) are started here and stopped at the end. After posting
the confirmation, a lifecycle polls the application's status, as a citizen would, until
the payment is recorded and the review is open.
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import django
import psycopg
import redis
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
DATABASE = os.environ.get("BENCH_DATABASE", "kaunti_applications_bench")
SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379")
CACHE_DB, BROKER_DB = 9, 10
TOKEN = "bench-applications-token-4d1e7b"  # noqa: S105  (a local benchmark's path token)
GOAL = 40.0  # lifecycles per second at 1 million stored, on 2 cores
GOAL_SLOWDOWN = 0.20  # at most 20% slower than at 10 thousand
MEDIA = ROOT / "var" / "bench-applications-media"
CITIZENS = 400
TOKENS_FILE = ROOT / "var" / "bench-applications-tokens.json"  # keys of `prepare`'s people

BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "kaunti.settings",
    "DATABASE_URL": f"{SERVER}/{DATABASE}?conn_max_age=600",
    "REDIS_URL": f"{REDIS}/{CACHE_DB}",
    "CELERY_BROKER_URL": f"{REDIS}/{BROKER_DB}",
    "DEBUG": "0",
    "SECRET_KEY": "bench-only-secret-key-" + "a" * 40,
    "ALLOWED_HOSTS": "127.0.0.1",
    "MPESA_CALLBACK_TOKEN": TOKEN,
    "AFRICASTALKING_CALLBACK_TOKEN": "bench-applications-at-token-" + "a" * 20,
    "SECURE_SSL_REDIRECT": "0",
    "SMS_BACKEND": "console",
    "MEDIA_ROOT": str(MEDIA),
    # A handful of officers act on every application: per-user API throttling (600 a
    # minute in production) would measure the throttle, not the work.
    "API_THROTTLE_USER": "1000000/minute",
    "API_THROTTLE_ANON": "1000000/minute",
    # Keep-alive connections last the whole run: no worker recycling in the middle of it.
    "GUNICORN_MAX_REQUESTS": "0",
}
os.environ.update(BENCH_ENV)
sys.path.insert(0, str(ROOT))
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench.applications.lifecycle import Refused, Results, Tokens, lifecycle  # noqa: E402
from bench.common import (  # noqa: E402
    Connection,
    database_cpu,
    free_port,
    start_celery_worker,
    start_gunicorn,
    stop,
    tree_cpu,
)
from kaunti.accounts.models import User  # noqa: E402
from kaunti.accounts.services import create_staff_user, issue_api_token  # noqa: E402
from kaunti.core.models import Department  # noqa: E402
from kaunti.core.reference_data import load_reference_data  # noqa: E402
from kaunti.eservices.services.catalogue_data import load_catalogue  # noqa: E402
from kaunti.ledger.services import load_chart_of_accounts  # noqa: E402
from kaunti.payments.services.price_list import load_price_list  # noqa: E402

# --- Set-up ---------------------------------------------------------------------------------


def recreate_database() -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))


def prepare() -> Tokens:
    """Migrate, load the county's data and catalogue, make the people and their tokens."""
    call_command("migrate", verbosity=0, interactive=False)
    load_reference_data(county_code="018")
    load_chart_of_accounts()
    load_price_list(county_code="018")
    load_catalogue(county_code="018")

    def staff(name: str, department: str, role: str) -> str:
        created = create_staff_user(
            username=name,
            full_name=name.replace("-", " ").title(),
            password="bench password " + "x" * 20,
            department=Department.objects.get(code=department),
            roles=[role],
            created_by=None,
        )
        return issue_api_token(user=created.user)

    citizens, usernames = [], []
    for number in range(CITIZENS):
        phone = f"254711{number:06d}"
        citizen = User.objects.create(
            username=phone, phone=phone, kind="citizen", full_name=f"Bench Citizen {number}"
        )
        citizens.append(issue_api_token(user=citizen))
        usernames.append(phone)
    tokens = Tokens(
        citizens=citizens,
        citizen_usernames=usernames,
        approvers=[staff(f"trade-approver-{n}", "trade", "approver") for n in range(4)],
        health_inspectors=[staff(f"health-inspector-{n}", "health", "inspector") for n in range(4)],
        fire_inspectors=[
            staff(f"fire-inspector-{n}", "public-service", "inspector") for n in range(4)
        ],
    )
    connection.close()
    TOKENS_FILE.parent.mkdir(parents=True, exist_ok=True)
    TOKENS_FILE.write_text(json.dumps(asdict(tokens)))
    return tokens


SEED_SQL = """
-- Applications numbered first .. last: 85 in 100 issued (with the permit, its four steps
-- done and a timeline of five entries), 5 in review, 5 awaiting payment, 5 drafts.
-- Consistent by construction: skip the per-row foreign key triggers while seeding.
SET LOCAL session_replication_role = replica;
CREATE TEMP TABLE seed AS
SELECT n,
       'APP-' || lpad(n::text, 7, '0') AS reference,
       CASE WHEN n %% 20 = 0 THEN 'draft' WHEN n %% 20 = 1 THEN 'submitted'
            WHEN n %% 20 = 2 THEN 'in_review' ELSE 'issued' END AS status,
       now() - make_interval(mins => (n %% 525600)) AS at
FROM generate_series(%(first)s, %(last)s) AS n;
CREATE TEMP TABLE seed_people AS
SELECT (SELECT array_agg(id ORDER BY id) FROM accounts_user WHERE kind = 'citizen') AS applicants,
       (SELECT array_agg(id ORDER BY id) FROM core_ward
         WHERE code IN ('0441','0445','0449','0453','0455','0458','0462','0464')) AS wards;
CREATE UNIQUE INDEX ON seed (reference);
ANALYZE seed;
-- Only while seeding (the app never looks documents up by source): joins the new permits
-- to their applications in one pass instead of one scan per row.
CREATE INDEX bench_seed_document_source ON core_issueddocument (source_ref);

INSERT INTO core_issueddocument
    (kind, number, holder_name, issued_at, valid_until, verification_code, source_type,
     source_ref, summary, revoked_at, revocation_reason)
SELECT 'permit', 'UBP/2025/' || lpad(n::text, 7, '0'), 'Seeded Business ' || n, at,
       DATE '2025-12-31', 'S' || lpad(n::text, 15, '0'), 'eservices.application', reference,
       'Unified Business Permit', NULL, ''
FROM seed WHERE status = 'issued';

INSERT INTO eservices_application
    (reference, applicant_id, service_id, version_id, answers, ward_id, status, renewal_of_id,
     fee_schedule_id, fees, fee_total, bill_id, issued_document_id, decision_reason,
     check_facts, created_at, updated_at, submitted_at, paid_at, decided_at, issued_at)
SELECT seed.reference,
       applicants[1 + n %% array_length(applicants, 1)],
       service.id, service.current_version_id,
       jsonb_build_object('application_type', 'new', 'business_name', 'Seeded Business ' || n,
                          'category', 'small-shop', 'kra_pin', 'A012345678B',
                          'premises_ward', '0453', 'premises_location', 'Plot ' || n,
                          'owner_national_id', '22334455', 'contact_phone', '254712000111'),
       wards[1 + n %% array_length(wards, 1)],
       seed.status, NULL,
       CASE WHEN seed.status = 'draft' THEN NULL ELSE schedule.id END,
       '{}'::jsonb, CASE WHEN seed.status = 'draft' THEN 0 ELSE 5000 END, NULL, document.id,
       '', '{}'::jsonb, at, at,
       CASE WHEN seed.status = 'draft' THEN NULL ELSE at END,
       CASE WHEN seed.status IN ('in_review', 'issued') THEN at END,
       CASE WHEN seed.status = 'issued' THEN at END,
       CASE WHEN seed.status = 'issued' THEN at END
FROM seed
CROSS JOIN seed_people
CROSS JOIN (SELECT id, current_version_id FROM eservices_service
            WHERE code = 'unified-business-permit') AS service
CROSS JOIN (SELECT id FROM eservices_feeschedule WHERE code = 'business-permit'
            ORDER BY effective_from DESC LIMIT 1) AS schedule
LEFT JOIN core_issueddocument AS document
       ON document.source_ref = seed.reference AND document.source_type = 'eservices.application'
          AND seed.status = 'issued';

INSERT INTO eservices_applicationstep
    (application_id, code, position, kind, name_en, name_sw, role, department_id, sla_hours,
     after, status, outcome, assigned_to_id, opened_at, due_at, completed_at, completed_by_id,
     notes)
SELECT application.id, step.code, step.position, step.kind, step.name, '', step.role,
       department.id, 48, step.after,
       CASE WHEN application.status = 'issued' THEN 'done'
            WHEN step.position = 1 THEN 'open' ELSE 'waiting' END,
       CASE WHEN application.status = 'issued' THEN
            CASE WHEN step.kind = 'inspection' THEN 'passed' ELSE 'approved' END
            ELSE '' END,
       NULL, application.paid_at,
       CASE WHEN application.status = 'issued' OR step.position = 1
            THEN application.paid_at + interval '48 hours' END,
       CASE WHEN application.status = 'issued' THEN application.issued_at END, NULL, ''
FROM eservices_application AS application
JOIN seed ON seed.reference = application.reference
CROSS JOIN (VALUES
    ('review', 1, 'review', 'Review by the trade office', 'approver', 'trade', '[]'::jsonb),
    ('inspection-health', 2, 'inspection', 'Public health inspection', 'inspector', 'health',
     '["review"]'::jsonb),
    ('inspection-fire', 3, 'inspection', 'Fire safety inspection', 'inspector',
     'public-service', '["review"]'::jsonb),
    ('approval', 4, 'approval', 'Approval of the permit', 'approver', 'trade',
     '["inspection-health", "inspection-fire"]'::jsonb)
) AS step(code, position, kind, name, role, department_code, after)
JOIN core_department AS department ON department.code = step.department_code
WHERE application.status IN ('in_review', 'issued');

INSERT INTO eservices_applicationevent
    (application_id, occurred_at, kind, actor_id, step_id, status_after, note,
     is_visible_to_applicant, data)
SELECT application.id, application.created_at + make_interval(mins => event.minute),
       event.kind, NULL, NULL, event.status_after, '', TRUE, '{}'::jsonb
FROM eservices_application AS application
JOIN seed ON seed.reference = application.reference
CROSS JOIN (VALUES ('created', 0, 'draft', 0), ('submitted', 1, 'submitted', 1),
                   ('paid', 2, 'in_review', 2), ('approved', 3, 'approved', 3),
                   ('issued', 4, 'issued', 3)) AS event(kind, minute, status_after, rank)
WHERE event.rank <= CASE application.status WHEN 'draft' THEN 0 WHEN 'submitted' THEN 1
                                            WHEN 'in_review' THEN 2 ELSE 3 END;

DROP INDEX bench_seed_document_source;
DROP TABLE seed;
DROP TABLE seed_people;
"""


def seed(*, first: int, last: int) -> float:
    """Add applications numbered first..last with SQL; returns the seconds it took."""
    started = time.perf_counter()
    with psycopg.connect(f"{SERVER}/{DATABASE}", autocommit=False) as database:
        database.execute(SEED_SQL % {"first": first, "last": last})
        database.commit()
    with psycopg.connect(f"{SERVER}/{DATABASE}", autocommit=True) as database:
        database.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def seeded_so_far() -> int:
    """The highest seeded application number (seeded references are APP- and 7 digits)."""
    with psycopg.connect(f"{SERVER}/{DATABASE}") as database:
        row = database.execute(
            "SELECT max(substr(reference, 5)::int) FROM eservices_application "
            "WHERE reference ~ '^APP-[0-9]{7}$'"
        ).fetchone()
    return int(row[0]) if row and row[0] else 0


def existing_tokens() -> Tokens:
    """The people `prepare` made in an earlier run, by the API keys it kept."""
    if not TOKENS_FILE.exists():
        raise SystemExit(f"{TOKENS_FILE} is missing: run run.py without --reuse first")
    return Tokens(**json.loads(TOKENS_FILE.read_text()))


def stored_applications() -> int:
    with psycopg.connect(f"{SERVER}/{DATABASE}") as database:
        row = database.execute("SELECT count(*) FROM eservices_application").fetchone()
    return int(row[0]) if row else 0


# --- Gunicorn (as bench/callbacks) -------------------------------------------------------------


def empty_redis() -> None:
    for number in (CACHE_DB, BROKER_DB):
        redis.Redis.from_url(f"{REDIS}/{number}").flushdb()


# --- One lifecycle -----------------------------------------------------------------------------


async def run_lifecycles(
    *,
    port: int,
    first: int,
    count: int,
    clients: int,
    tokens: Tokens,
    separate_calls: bool = False,
) -> tuple[Results, float]:
    results = Results()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for number in range(first, first + count):
        queue.put_nowait(number)

    async def worker() -> None:
        connection = Connection(port)
        try:
            while True:
                try:
                    number = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                try:
                    await asyncio.wait_for(
                        lifecycle(
                            connection,
                            number,
                            tokens,
                            results,
                            token=TOKEN,
                            separate_calls=separate_calls,
                        ),
                        120,
                    )
                except (Refused, OSError, TimeoutError, EOFError, KeyError, ValueError) as exc:
                    connection.close()
                    results.failed[str(exc)[:80] or type(exc).__name__] += 1
        finally:
            connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return results, time.perf_counter() - started


# --- Main ---------------------------------------------------------------------------------------


@dataclass
class Measure:
    stored: int
    rate: float
    completed: int
    failed: int
    p50: float
    p95: float
    load_before: float
    load_after: float
    app_cpu_per_lifecycle_ms: float
    worker_cpu_per_lifecycle_ms: float
    database_cpu_per_lifecycle_ms: float
    client_cpu_per_lifecycle_ms: float
    requests_per_lifecycle: float
    payment_wait_p50: float


def measure(arguments: argparse.Namespace, tokens: Tokens, next_number: int) -> Measure:
    stored = stored_applications()
    port = free_port()
    log = ROOT / "var" / "bench-applications-gunicorn.log"
    server = start_gunicorn(
        env=BENCH_ENV, port=port, workers=arguments.workers, threads=arguments.threads, log=log
    )
    worker = start_celery_worker(
        env=BENCH_ENV,
        concurrency=arguments.drainers,
        log=ROOT / "var" / "bench-applications-worker.log",
    )
    try:
        warm, _elapsed = asyncio.run(
            run_lifecycles(
                port=port,
                first=next_number,
                count=arguments.warm_up,
                clients=arguments.clients,
                tokens=tokens,
                separate_calls=arguments.separate_calls,
            )
        )
        if warm.failed:
            raise RuntimeError(f"warm-up lifecycles failed: {dict(warm.failed)}; see {log}")
        load_before = os.getloadavg()[0]
        cpu_before, worker_before = tree_cpu(server), tree_cpu(worker)
        # The backends are persistent (conn_max_age): those alive now serve the run.
        database_before = database_cpu(server=SERVER, database=DATABASE)
        client_before = time.process_time()
        results, elapsed = asyncio.run(
            run_lifecycles(
                port=port,
                first=next_number + arguments.warm_up,
                count=arguments.lifecycles,
                clients=arguments.clients,
                tokens=tokens,
                separate_calls=arguments.separate_calls,
            )
        )
        client_cpu = time.process_time() - client_before
        app_cpu = tree_cpu(server) - cpu_before
        worker_cpu = tree_cpu(worker) - worker_before
        database_used = database_cpu(server=SERVER, database=DATABASE) - database_before
        load_after = os.getloadavg()[0]
    finally:
        stop(server)
        stop(worker)
    durations = sorted(results.durations) or [0.0]
    if results.failed:
        print(f"  FAILED lifecycles: {dict(results.failed)}")
    return Measure(
        stored=stored,
        rate=results.completed / elapsed,
        completed=results.completed,
        failed=sum(results.failed.values()),
        p50=statistics.median(durations),
        p95=durations[int(len(durations) * 0.95) - 1 if len(durations) > 1 else 0],
        load_before=load_before,
        load_after=load_after,
        app_cpu_per_lifecycle_ms=1000 * app_cpu / max(results.completed, 1),
        worker_cpu_per_lifecycle_ms=1000 * worker_cpu / max(results.completed, 1),
        database_cpu_per_lifecycle_ms=1000 * database_used / max(results.completed, 1),
        client_cpu_per_lifecycle_ms=1000 * client_cpu / max(results.completed, 1),
        requests_per_lifecycle=results.requests / max(results.completed, 1),
        payment_wait_p50=statistics.median(results.payment_waits or [0.0]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--lifecycles", type=int, default=300, help="measured, per size")
    parser.add_argument("--warm-up", type=int, default=10, help="lifecycles before measuring")
    parser.add_argument("--clients", type=int, default=4, help="concurrent lifecycles")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    parser.add_argument(
        "--drainers", type=int, default=1, help="Celery worker processes (record payments)"
    )
    parser.add_argument(
        "--separate-calls",
        action="store_true",
        help="start each application in five calls (create, answers, two uploads, submit) "
        "rather than one",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the database an earlier run left (no re-seed)"
    )
    arguments = parser.parse_args()
    sizes = sorted(arguments.sizes)

    if arguments.reuse:
        print(f"database {DATABASE}: reusing what an earlier run left")
        empty_redis()
        tokens = existing_tokens()
    else:
        print(f"database {DATABASE}: recreating, migrating, loading the catalogue and people...")
        recreate_database()
        empty_redis()
        tokens = prepare()
    measures: list[Measure] = []
    # Lifecycle numbers (TransIDs, business names) apart from the seeded ones and from
    # earlier runs on the same database.
    seeded, next_number = seeded_so_far(), 9_000_000 + stored_applications()
    for size in sizes:
        # Lifecycles of earlier sizes are stored too: seed only what is missing.
        missing = size - stored_applications()
        if missing > 0:
            took = seed(first=seeded + 1, last=seeded + missing)
            seeded += missing
            print(f"seeded {missing} applications with SQL in {took:.0f} s")
        print(
            f"measuring with {stored_applications()} applications stored: "
            f"{arguments.lifecycles} lifecycles, {arguments.clients} at a time, gunicorn "
            f"{arguments.workers} x {arguments.threads}, load average {os.getloadavg()[0]:.1f} "
            f"on {os.cpu_count()} CPUs..."
        )
        result = measure(arguments, tokens, next_number)
        next_number += arguments.warm_up + arguments.lifecycles
        measures.append(result)
        print(
            f"  {result.rate:.1f} lifecycles/s ({result.completed} done, {result.failed} "
            f"failed), p50 {result.p50:.2f} s, p95 {result.p95:.2f} s per lifecycle, "
            f"{result.app_cpu_per_lifecycle_ms:.0f} ms of gunicorn CPU + "
            f"{result.worker_cpu_per_lifecycle_ms:.0f} ms of Celery CPU + "
            f"{result.database_cpu_per_lifecycle_ms:.0f} ms of PostgreSQL CPU each, and "
            f"{result.client_cpu_per_lifecycle_ms:.0f} ms in this load client "
            f"({result.requests_per_lifecycle:.1f} requests each, payment recorded "
            f"{result.payment_wait_p50 * 1000:.0f} ms after its answer, p50); load "
            f"{result.load_before:.1f} -> {result.load_after:.1f}"
        )
    empty_redis()
    print()
    for result in measures:
        print(f"{result.stored:>9} stored: {result.rate:6.1f} lifecycles/s")
    if len(measures) >= 2:
        small, large = measures[0], measures[-1]
        ratio = large.rate / small.rate if small.rate else 0.0
        print(
            f"ratio {large.stored} / {small.stored}: {ratio:.2f} "
            f"({(1 - ratio):.0%} slower; goal under {GOAL_SLOWDOWN:.0%})"
        )
        print(
            f"goal {GOAL:.0f}/s at {large.stored}: "
            + ("met" if large.rate >= GOAL and 1 - ratio < GOAL_SLOWDOWN else "NOT met")
        )
    if arguments.json:
        arguments.json.write_text(json.dumps([vars(m) for m in measures], indent=2))


if __name__ == "__main__":
    main()
