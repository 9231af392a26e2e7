"""The database's part of a backup: PostgreSQL through pg_dump and pg_restore (directory
format, parallel jobs, one exported snapshot), SQLite through its online backup API."""

import contextlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from django.db import connection, transaction
from psycopg import sql

POSTGRESQL = "django.db.backends.postgresql"
SQLITE = "django.db.backends.sqlite3"
ENGINES = {POSTGRESQL: "postgresql", SQLITE: "sqlite"}


class RestoreRefusedError(Exception):
    """The target cannot take the backup as it stands (not empty, another engine)."""


def engine_name(database: Mapping[str, Any]) -> str:
    engine = ENGINES.get(database["ENGINE"])
    if engine is None:
        raise RestoreRefusedError(f"Backups cover PostgreSQL and SQLite, not {database['ENGINE']}.")
    return engine


def _libpq_environment(database: Mapping[str, Any], *, name: str | None = None) -> dict[str, str]:
    """pg_dump's and pg_restore's connection, in the environment (no password in `ps`)."""
    environment = dict(os.environ)
    for variable, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER")):
        if database.get(key):
            environment[variable] = str(database[key])
    if database.get("PASSWORD"):
        environment["PGPASSWORD"] = str(database["PASSWORD"])
    environment["PGDATABASE"] = name or str(database["NAME"])
    return environment


def conninfo(database: Mapping[str, Any], *, name: str) -> str:
    parts = {
        "host": database.get("HOST") or "",
        "port": str(database.get("PORT") or ""),
        "user": database.get("USER") or "",
        "password": database.get("PASSWORD") or "",
        "dbname": name,
    }
    return psycopg.conninfo.make_conninfo(**{k: v for k, v in parts.items() if v})


def _run(command: list[str], environment: dict[str, str]) -> None:
    done = subprocess.run(  # noqa: S603  (PostgreSQL's own tools, arguments we built)
        command, env=environment, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {done.stderr.strip()[-2000:]}")


@contextlib.contextmanager
def frozen_database() -> Iterator[str | None]:
    """Hold one view of the default database for the dump and the facts read beside it.

    PostgreSQL: a read-only REPEATABLE READ transaction whose snapshot is exported, so
    pg_dump's workers and the facts see the same committed data while writes go on.
    SQLite: a read transaction (a WAL snapshot) on Django's own connection, which the
    online backup copies from; writers go on. (Not Django's `atomic`, which begins
    IMMEDIATE here: the backup API would then wait forever on its own write lock.)
    Yields the snapshot's id (PostgreSQL) or None.
    """
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            yield cursor.fetchone()[0]
        return
    if connection.in_atomic_block:  # the caller's transaction already holds a snapshot
        yield None
        return
    connection.ensure_connection()
    raw = connection.connection
    raw.execute("BEGIN DEFERRED")
    try:
        raw.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the snapshot starts here
        yield None
    finally:
        raw.execute("COMMIT")


def dump(*, database: Mapping[str, Any], snapshot: str | None, into: Path, jobs: int) -> None:
    """Write the database under `into` (created): a pg_dump directory, or one SQLite file."""
    if engine_name(database) == "postgresql":
        command = ["pg_dump", "--format=directory", f"--jobs={jobs}", "--compress=1"]
        command += [f"--file={into}"]
        if snapshot:
            command.append(f"--snapshot={snapshot}")
        _run(command, _libpq_environment(database))
        return
    into.mkdir(parents=True)
    connection.ensure_connection()
    with sqlite3.connect(into / "database.sqlite3") as copy:
        connection.connection.backup(copy)
    copy.close()


def is_empty(database: Mapping[str, Any]) -> bool:
    """Whether the target holds no tables (a database that does not exist yet is empty)."""
    if engine_name(database) == "postgresql":
        try:
            with psycopg.connect(conninfo(database, name=str(database["NAME"]))) as target:
                row = target.execute(
                    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')"
                ).fetchone()
        except psycopg.OperationalError as error:
            if "does not exist" in str(error):
                return True
            raise
        return row is not None and row[0] == 0
    name = str(database["NAME"])
    in_memory = name.startswith("file:") or name == ":memory:"  # a test database
    if not in_memory and not Path(name).exists():
        return True
    with contextlib.closing(sqlite3.connect(name, uri=name.startswith("file:"))) as target:
        return target.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0


def prepare_target(database: Mapping[str, Any], *, clear: bool) -> None:
    """Create the target if it does not exist; with `clear`, empty it first."""
    if engine_name(database) == "postgresql":
        name = str(database["NAME"])
        with psycopg.connect(conninfo(database, name="postgres"), autocommit=True) as server:
            exists = server.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
            if not exists:
                server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                return
        if clear:
            with psycopg.connect(conninfo(database, name=name), autocommit=True) as target:
                target.execute("DROP SCHEMA public CASCADE")
                target.execute("CREATE SCHEMA public")
        return
    path = Path(str(database["NAME"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    if clear:
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)


def restore(*, database: Mapping[str, Any], dumped: Path, jobs: int) -> None:
    """Load a dump into an empty target (pg_restore in parallel, or SQLite's backup API)."""
    if engine_name(database) == "postgresql":
        command = ["pg_restore", f"--jobs={jobs}", "--exit-on-error", "--no-owner", "--no-acl"]
        command += [f"--dbname={database['NAME']}", str(dumped)]
        _run(command, _libpq_environment(database))
        return
    target = Path(str(database["NAME"]))
    with (
        contextlib.closing(sqlite3.connect(dumped / "database.sqlite3")) as source,
        contextlib.closing(sqlite3.connect(target)) as copy,
    ):
        source.backup(copy)


def analyze(database: Mapping[str, Any]) -> None:
    """Planner statistics, which a restore does not bring: without them the first queries
    on a county's tables plan blind."""
    if engine_name(database) == "postgresql":
        with psycopg.connect(
            conninfo(database, name=str(database["NAME"])), autocommit=True
        ) as target:
            target.execute("ANALYZE")
        return
    with contextlib.closing(sqlite3.connect(Path(str(database["NAME"])))) as target:
        target.execute("ANALYZE")


def drop(database: Mapping[str, Any]) -> None:
    """Remove a scratch target (the drill's)."""
    if engine_name(database) == "postgresql":
        with psycopg.connect(conninfo(database, name="postgres"), autocommit=True) as server:
            server.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(str(database["NAME"]))
                )
            )
        return
    path = Path(str(database["NAME"]))
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)


def database_url(database: Mapping[str, Any]) -> str:
    """A settings-style database as DATABASE_URL would give it (for a child process)."""
    if engine_name(database) == "sqlite":
        return f"sqlite:///{database['NAME']}"
    user = quote(str(database.get("USER") or ""), safe="")
    password = quote(str(database.get("PASSWORD") or ""), safe="")
    login = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = database.get("HOST") or "127.0.0.1"
    port = f":{database['PORT']}" if database.get("PORT") else ""
    return f"postgres://{login}{host}{port}/{database['NAME']}"


def tools_present(database: Mapping[str, Any]) -> bool:
    return engine_name(database) == "sqlite" or bool(shutil.which("pg_dump"))
