"""The embedded default (SQLite, `make run`) under callbacks that arrive together: gunicorn
serving Kaunti from a SQLite file, as a small county might run it, takes the same paybill
confirmation from several connections at once, and other confirmations beside it.

Runs when the tests run on SQLite (the test database is copied to a file for gunicorn);
on PostgreSQL the same concurrency is covered by test_concurrency.py.
"""

import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.db import connection

from kaunti.payments.models import Bill
from kaunti.payments.tests.test_mpesa_callbacks import c2b_body

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
        reason="the embedded default is SQLite",
    ),
]

ROOT = Path(__file__).resolve().parents[3]
TOKEN = "embedded-test-token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def served_from_a_sqlite_file(tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Start gunicorn on a copy of the test database in a file; yields a function that
    copies the database (call it once the data is in) and returns the server's base URL."""
    database = tmp_path / "kaunti.sqlite3"
    port = free_port()
    servers: list[subprocess.Popen[bytes]] = []

    def start() -> str:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM INTO %s", [str(database)])
        # In WAL, as `migrate` leaves the file (its connection runs the same init_command).
        with sqlite3.connect(database) as copy:
            copy.execute("PRAGMA journal_mode=WAL")
        environment = {
            key: value
            for key, value in os.environ.items()
            if key not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")
        }
        environment.update(
            DJANGO_SETTINGS_MODULE="kaunti.settings",
            DATABASE_URL=f"sqlite:///{database}",
            DEBUG="1",
            MPESA_CALLBACK_TOKEN=TOKEN,
            GUNICORN_BIND=f"127.0.0.1:{port}",
            GUNICORN_WORKERS="2",
            GUNICORN_THREADS="4",
        )
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "kaunti.wsgi"],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / "gunicorn.log").open("wb"),
        )
        servers.append(server)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    return base
            except httpx.TransportError:
                time.sleep(0.5)
        raise AssertionError("gunicorn did not start")

    yield start
    for server in servers:
        server.terminate()
        server.wait(timeout=30)


def rows_in(database: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as rows:
        return rows.execute(sql).fetchall()


def test_concurrent_deliveries_are_all_answered_and_each_payment_recorded_once(
    make_bill: Callable[..., Bill],
    served_from_a_sqlite_file: Callable[[], str],
    tmp_path: Path,
) -> None:
    bills = [make_bill(Decimal("500.00")) for _ in range(4)]
    base = served_from_a_sqlite_file()
    path = f"{base}/payments/paybill/confirmation/{TOKEN}/"
    # The same confirmation on 6 connections at once, and 3 other payments beside it.
    same = c2b_body(bills[0].number, trans_id="SKE0000001", amount="500.00")
    others = [
        c2b_body(bill.number, trans_id=f"SKE000000{index}", amount="500.00")
        for index, bill in enumerate(bills[1:], start=2)
    ]
    bodies = [same] * 6 + others

    def deliver(body: str) -> tuple[int, object]:
        response = httpx.post(
            path, content=body, headers={"Content-Type": "application/json"}, timeout=60
        )
        return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        answers = list(pool.map(deliver, bodies))

    assert answers == [(200, {"ResultCode": 0, "ResultDesc": "Success"})] * len(bodies)
    database = tmp_path / "kaunti.sqlite3"
    assert sorted(rows_in(database, "SELECT external_ref FROM payments_payment")) == [
        (f"SKE000000{index}",) for index in range(1, 5)
    ]
    assert rows_in(
        database, "SELECT status, count(*) FROM payments_inboundcallback GROUP BY status"
    ) == [("duplicate", 5), ("processed", 4)]
    assert rows_in(database, "SELECT DISTINCT status FROM payments_bill") == [("paid",)]

    # A chunked confirmation, as gunicorn reads it, is stored whole (nothing new to pay:
    # the same TransID again, so a duplicate).
    chunked = httpx.post(
        path,
        content=iter([same[:100].encode(), same[100:].encode()]),
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert (chunked.status_code, chunked.request.headers.get("Transfer-Encoding")) == (
        200,
        "chunked",
    )
    assert rows_in(
        database, "SELECT body, status FROM payments_inboundcallback ORDER BY id DESC LIMIT 1"
    ) == [(same, "duplicate")]
