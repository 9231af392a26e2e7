"""A real Celery worker and beat, on the filesystem broker `make run` uses, against a SQLite
file: beat sends a scheduled job, the worker runs it, and its run is recorded (ADR 18)."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.worker

ROOT = Path(settings.BASE_DIR)
WAIT_SECONDS = 45.0
CREATE_TABLES = """
from django.contrib.auth import get_user_model
from django.db import connection
from kaunti.core.models import ScheduledJobRun
with connection.schema_editor() as editor:
    editor.create_model(get_user_model())  # the table the run's requested_by points at
    editor.create_model(ScheduledJobRun)
"""


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "KAUNTI_TESTING", "PYTEST_XDIST_WORKER"}
    }
    env.update(
        DEBUG="1",
        DJANGO_SETTINGS_MODULE="kaunti.core.tests.worker_settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'kaunti.sqlite3'}",
        CELERY_BROKER_URL="filesystem://localhost//",
        CELERY_FILESYSTEM_DIR=str(tmp_path / "celery"),
        CELERY_BEAT_SCHEDULE_FILENAME=str(tmp_path / "celerybeat-schedule"),
        PYTHONPATH=str(ROOT),
    )
    subprocess.run(  # noqa: S603  (our own Python, no outside input)
        [sys.executable, "-c", "import django; django.setup()\n" + CREATE_TABLES],
        env=env,
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    return env


@pytest.fixture
def worker_and_beat(environment: dict[str, str], tmp_path: Path) -> Iterator[Path]:
    celery = [sys.executable, "-m", "celery", "-A", "kaunti"]
    commands = [
        [
            *celery,
            "worker",
            "-Q",
            "celery,notifications",
            "--pool",
            "solo",
            "-n",
            "test@%h",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
            "-l",
            "INFO",
        ],
        [*celery, "beat", "-l", "INFO", "--pidfile="],
    ]
    logs = [tmp_path / "worker.log", tmp_path / "beat.log"]
    processes = [
        subprocess.Popen(  # noqa: S603  (celery from our venv, no outside input)
            command, env=environment, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT
        )
        for command, log in zip(commands, logs, strict=True)
    ]
    yield tmp_path / "kaunti.sqlite3"
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def recorded_runs(database: Path) -> list[tuple[str, str, str, int]]:
    with closing(sqlite3.connect(database, timeout=5)) as connection:
        return connection.execute(
            "SELECT entry_name, outcome, hostname, by_hand FROM core_scheduledjobrun"
            " WHERE finished_at IS NOT NULL"
        ).fetchall()


def test_beat_sends_a_scheduled_job_and_the_worker_records_its_run(
    worker_and_beat: Path, tmp_path: Path
) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    runs: list[tuple[str, str, str, int]] = []
    while not runs and time.monotonic() < deadline:
        time.sleep(0.5)
        runs = recorded_runs(worker_and_beat)

    logs = "\n".join(path.read_text()[-2000:] for path in tmp_path.glob("*.log"))
    assert runs, f"no run recorded within {WAIT_SECONDS} s:\n{logs}"
    entry, outcome, hostname, by_hand = runs[0]
    assert (entry, outcome, by_hand) == ("prune-scheduled-job-runs", "success", 0)
    assert hostname.startswith("test@")
