"""Where a lifecycle's time goes: the same requests as run.py, in-process through Django's
test client against the bench database run.py left, with the CPU time and the SQL
statements of each request, and a cProfile of the whole (bench/applications/README.md).

A paybill confirmation is answered once stored and recorded by a Celery worker in batches
(ADR 7); here the recording runs in-process right after the confirmation's request, as
what the worker would do ("record payment (worker)"), so the lifecycle can go on.

    .venv/bin/python bench/applications/run.py --sizes 200 --lifecycles 5   # makes the database
    .venv/bin/python bench/applications/profile_lifecycle.py --lifecycles 20
"""

# ruff: noqa: I001  (run must be imported before Django: it configures and sets Django up)
import argparse
import cProfile
import io
import json
import pstats
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # sets the environment and Django up exactly as the bench; keep it first

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.applications.lifecycle import PDF, confirmation
from kaunti.payments.mpesa import c2b, receive


def start_in_five_calls(call: Callable[..., dict], citizen: str, answers: dict) -> dict:
    """The draft, its answers, two uploads and the submission as separate requests."""
    created = call(
        "create",
        "post",
        "/api/v1/applications/",
        citizen,
        data={"service": "unified-business-permit"},
        content_type="application/json",
    )
    application = f"/api/v1/applications/{created['reference']}/"
    call(
        "answers",
        "patch",
        application,
        citizen,
        data={"answers": answers},
        content_type="application/json",
    )
    for kind in ("id_copy", "kra_certificate"):
        upload = io.BytesIO(PDF)
        upload.name = f"{kind}.pdf"
        call(
            "upload",
            "post",
            f"{application}documents/",
            citizen,
            data={"kind": kind, "file": upload},
        )
    return call(
        "submit",
        "post",
        f"{application}submit/",
        citizen,
        data={},
        content_type="application/json",
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lifecycles", type=int, default=20)
    parser.add_argument("--warm-up", type=int, default=2, help="lifecycles before measuring")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--no-cprofile", action="store_true", help="CPU and SQL per request only (no overhead)"
    )
    parser.add_argument(
        "--sql", action="store_true", help="print the SQL statements of the last lifecycle"
    )
    parser.add_argument(
        "--sort", default="tottime", help="cProfile order: tottime, cumulative, ..."
    )
    parser.add_argument("--save", help="also write the cProfile statistics to this file")
    parser.add_argument(
        "--separate-calls",
        action="store_true",
        help="start each application in five calls rather than one",
    )
    arguments = parser.parse_args()
    keys = run.existing_tokens()
    client = Client(HTTP_HOST="127.0.0.1")
    cpu: dict[str, float] = defaultdict(float)
    queries: dict[str, int] = defaultdict(int)
    statements: list[tuple[str, str]] = []

    def call(name: str, method: str, url: str, token: str | None, **kw: object) -> dict:
        headers = {"HTTP_AUTHORIZATION": f"Token {token}"} if token else {}
        started = time.process_time()
        with CaptureQueriesContext(connection) as captured:
            response = getattr(client, method)(url, **kw, **headers)
        cpu[name] += time.process_time() - started
        queries[name] += len(captured.captured_queries)
        statements.extend((name, query["sql"]) for query in captured.captured_queries)
        assert response.status_code in (200, 201), (name, response.status_code, response.content)
        return response.json() if response.content else {}

    profiler = cProfile.Profile(time.process_time)  # CPU, not waiting for PostgreSQL
    for number in range(-arguments.warm_up, arguments.lifecycles):
        if number == 0:  # imports, connections and caches are warm: measure from here
            cpu.clear()
            queries.clear()
        statements.clear()
        n = 8_000_000 + arguments.warm_up + number + int(time.time()) % 100_000 * 100
        citizen = keys.citizens[number % len(keys.citizens)]
        approver = keys.approvers[0]
        if number >= 0 and not arguments.no_cprofile:
            profiler.enable()
        answers = {
            "application_type": "new",
            "business_name": f"Profiled {n}",
            "category": "small-shop",
            "kra_pin": "A012345678B",
            "premises_ward": "0453",
            "premises_location": "Plot 1",
            "owner_national_id": "22334455",
            "contact_phone": "0712000111",
        }
        if arguments.separate_calls:
            submitted = start_in_five_calls(call, citizen, answers)
        else:
            uploads = {}
            for kind in ("id_copy", "kra_certificate"):
                uploads[kind] = io.BytesIO(PDF)
                uploads[kind].name = f"{kind}.pdf"
            submitted = call(
                "start (one call)",
                "post",
                "/api/v1/applications/",
                citizen,
                data={
                    "service": "unified-business-permit",
                    "answers": json.dumps(answers),
                    "submit": "true",
                    **uploads,
                },
            )
            assert submitted["status"] == "submitted", submitted["errors"]
        application = f"/api/v1/applications/{submitted['reference']}/"
        call(
            "pay (C2B confirmation)",
            "post",
            f"/payments/mpesa/c2b/confirmation/{run.TOKEN}/",
            None,
            data=confirmation(f"BP{n}", submitted["bill_number"], submitted["fee_total"]),
            content_type="application/json",
        )
        started = time.process_time()
        with CaptureQueriesContext(connection) as captured:
            recorded = c2b.drain_c2b_confirmations()
        cpu["record payment (worker)"] += time.process_time() - started
        queries["record payment (worker)"] += len(captured.captured_queries)
        statements.extend(
            ("record payment (worker)", query["sql"]) for query in captured.captured_queries
        )
        assert recorded >= 1, "the confirmation was not stored"
        steps = f"{application}steps/"
        call(
            "approve review",
            "post",
            f"{steps}review/approve/",
            approver,
            data={},
            content_type="application/json",
        )
        call(
            "inspect",
            "post",
            f"{steps}inspection-health/inspect/",
            keys.health_inspectors[0],
            data={"passed": True},
            content_type="application/json",
        )
        call(
            "inspect",
            "post",
            f"{steps}inspection-fire/inspect/",
            keys.fire_inspectors[0],
            data={"passed": True},
            content_type="application/json",
        )
        call(
            "approve and issue",
            "post",
            f"{steps}approval/approve/",
            approver,
            data={},
            content_type="application/json",
        )
        status = call("status", "get", application, citizen)
        profiler.disable()
        assert status["status"] == "issued", status
    # Clear the drain flag the confirmations raised (their queued drains are emptied from
    # Redis by the next run.py), so that a later run's first confirmation queues a drain.
    receive.drain_c2b_confirmations()
    if arguments.sql:
        for name, statement in statements:
            print(f"[{name}] {statement[:400]}")
    count = arguments.lifecycles
    total = sum(cpu.values())
    print(f"{count} lifecycles in-process: {1000 * total / count:.0f} ms CPU each")
    print(f"{'request':<24} {'ms CPU / lifecycle':>18} {'SQL / lifecycle':>16}")
    for name in sorted(cpu, key=cpu.__getitem__, reverse=True):
        print(f"{name:<24} {1000 * cpu[name] / count:>18.1f} {queries[name] / count:>16.1f}")
    if not arguments.no_cprofile:
        stream = io.StringIO()
        stats = pstats.Stats(profiler, stream=stream)
        # Python function calls: a measure of the work that a busy, shared machine does
        # not inflate as it does CPU time (in-process, so not counting the worker's).
        print(f"{stats.total_calls / count:,.0f} Python function calls per lifecycle")  # type: ignore[attr-defined]
        stats.sort_stats(arguments.sort).print_stats(arguments.top)
        if arguments.save:
            stats.dump_stats(arguments.save)
        print(stream.getvalue())
    print(json.dumps({"cpu_ms": {k: 1000 * v / count for k, v in cpu.items()}}))


if __name__ == "__main__":
    main()
