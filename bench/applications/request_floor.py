"""What the cheapest requests of a lifecycle cost gunicorn, against the database `run.py`
left: the floor under the lifecycle's 12 requests (bench/applications/README.md).

    .venv/bin/python bench/applications/request_floor.py [--requests 2000]

For each of three reads it sends `--requests` requests, 8 at a time, over loopback to
gunicorn (2 sync workers, the same production settings as `run.py`), and prints the
requests per second and the CPU per request of gunicorn and of the PostgreSQL backends:

    /healthz                                  Django and no more (no database)
    GET /api/v1/services/                     an authenticated API read of the catalogue
    GET /api/v1/applications/<reference>/     a citizen's status read (issued, with steps
                                              and timeline), as the lifecycle polls it
"""

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # sets the environment and Django up exactly as the bench; keep it first

from bench.common import Connection, database_cpu, free_port, start_gunicorn, stop, tree_cpu
from kaunti.eservices.models import Application, ApplicationStatus

CLIENTS = 8


async def send(port: int, path: str, token: str | None, count: int) -> None:
    async def client(share: int) -> None:
        connection = Connection(port)
        for _ in range(share):
            status, body = await connection.request("GET", path, token=token)
            if status != 200:
                raise RuntimeError(f"GET {path} -> {status}: {body[:200]!r}")
        connection.close()

    await asyncio.gather(*(client(count // CLIENTS) for _ in range(CLIENTS)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    arguments = parser.parse_args()
    issued = (
        Application.objects.filter(status=ApplicationStatus.ISSUED)
        .select_related("applicant")
        .order_by("-pk")
        .first()
    )
    if issued is None:
        raise SystemExit(f"no issued application in {run.DATABASE}: run run.py first")
    token = run.existing_tokens().citizen_key(issued.applicant.username)
    reads = [
        ("/healthz", None),
        ("/api/v1/services/", token),
        (f"/api/v1/applications/{issued.reference}/", token),
    ]
    port = free_port()
    server = start_gunicorn(
        env=run.BENCH_ENV, port=port, workers=2, threads=1, log=run.ROOT / "var" / "bench-floor.log"
    )
    try:
        for path, key in reads:
            asyncio.run(send(port, path, key, 200))  # warm up
            app_before = tree_cpu(server)
            database_before = database_cpu(server=run.SERVER, database=run.DATABASE)
            started = time.perf_counter()
            asyncio.run(send(port, path, key, arguments.requests))
            elapsed = time.perf_counter() - started
            app = tree_cpu(server) - app_before
            database = database_cpu(server=run.SERVER, database=run.DATABASE) - database_before
            per = 1000 / arguments.requests
            print(
                f"{path:<42} {arguments.requests / elapsed:6.0f}/s  gunicorn {app * per:.2f} ms"
                f"  PostgreSQL {database * per:.2f} ms  per request"
            )
    finally:
        stop(server)


if __name__ == "__main__":
    main()
