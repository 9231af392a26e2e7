"""What `manage.py upgrade` looks at before it changes anything: the migration history, the
deployment checks, a previous upgrade that failed, and the plan (which pending migrations
lock large tables, and for about how long)."""

import math
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core import checks
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.exceptions import InconsistentMigrationHistory
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

from kaunti.core import maintenance
from kaunti.core.models import AuditEvent

UPGRADE_COMPLETED = "upgrade.completed"
UPGRADE_FAILED = "upgrade.failed"
UPGRADE_REASON = "upgrade"

# A rough rate for building an index or rewriting a table on the county's server, used only
# to turn a row count into "expect about N minutes"; measure on a copy (docs/operations/upgrade.md).
ROWS_PER_MINUTE = 1_000_000


@dataclass(frozen=True)
class LargeTableLock:
    """A pending migration that holds a lock on a large table while it runs (it declares
    `LOCKS_LARGE_TABLES = {table: what it does}` on its Migration class)."""

    migration: str
    table: str
    what: str
    rows: int

    def describe(self) -> str:
        minutes = math.ceil(self.rows / ROWS_PER_MINUTE)
        expect = "expect under a minute" if minutes <= 1 else f"expect about {minutes} minutes"
        return f"{self.migration}: {self.what} on {self.table} (about {self.rows:,} rows): {expect}"


def migration_problems(*, database: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Why the migration history cannot be built on: a migration recorded as applied
    whose file is gone, a migration applied before one it depends on, or two leaves in
    one app."""
    connection = connections[database]
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    problems = [
        f"migration {app}.{name} is recorded as applied but is not in this code"
        for app, name in sorted(loader.applied_migrations or {})
        if app in loader.migrated_apps and (app, name) not in loader.disk_migrations
    ]
    try:
        loader.check_consistent_history(connection)
    except InconsistentMigrationHistory as error:
        problems.append(str(error))
    for app, names in sorted(loader.detect_conflicts().items()):
        problems.append(f"app {app} has conflicting migrations: {', '.join(sorted(names))}")
    return problems


def deployment_errors() -> list[str]:
    """`manage.py check --deploy` errors (warnings are printed by that command, not here)."""
    found = checks.run_checks(include_deployment_checks=True)
    return [
        f"{message.id}: {message.msg}"
        for message in found
        if message.level >= checks.ERROR and not message.is_silenced()
    ]


def previous_failure() -> str:
    """An earlier upgrade that did not finish: the maintenance flag it left on, or its
    failure as the audit chain's last word on upgrades. Empty when there is none."""
    state = maintenance.current_state()
    if state is not None and state.reason.startswith(UPGRADE_REASON):
        return f"maintenance was left on by an upgrade since {state.since} ({state.reason})"
    last = (
        AuditEvent.objects.filter(action__in=[UPGRADE_COMPLETED, UPGRADE_FAILED])
        .order_by("-id")
        .only("action", "occurred_at", "data")
        .first()
    )
    if last is not None and last.action == UPGRADE_FAILED:
        step = (last.data or {}).get("failed_step", "?")
        return f"the upgrade of {last.occurred_at:%Y-%m-%d %H:%M} failed at step {step}"
    return ""


def pending_migrations(*, database: str = DEFAULT_DB_ALIAS) -> list[str]:
    """The migrations `migrate` would apply, in order ("app.name")."""
    executor = MigrationExecutor(connections[database])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, backwards in plan]


def large_table_locks(*, database: str = DEFAULT_DB_ALIAS) -> list[LargeTableLock]:
    """The pending migrations marked `LOCKS_LARGE_TABLES`, with each table's size now."""
    connection = connections[database]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    locks = []
    for migration, _backwards in plan:
        declared: dict[str, str] = getattr(migration, "LOCKS_LARGE_TABLES", None) or {}
        for table, what in declared.items():
            locks.append(
                LargeTableLock(
                    migration=f"{migration.app_label}.{migration.name}",
                    table=table,
                    what=what,
                    rows=estimated_rows(table, database=database),
                )
            )
    return locks


def estimated_rows(table: str, *, database: str = DEFAULT_DB_ALIAS) -> int:
    """PostgreSQL's estimate (no scan of a large table); SQLite counts. 0 when the table
    does not exist yet."""
    connection = connections[database]
    if table not in connection.introspection.table_names():
        return 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [table]
            )
            row = cursor.fetchone()
            if row and int(row[0]) >= 0:
                return int(row[0])
            # -1: never analysed (new or small), so counting is cheap.
        cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        row = cursor.fetchone()
        return int(row[0]) if row else 0


def applied_heads(*, database: str = DEFAULT_DB_ALIAS) -> dict[str, str]:
    """The last applied migration of each app: what the database's schema is at."""
    loader = MigrationLoader(connections[database], ignore_no_migrations=True)
    heads: dict[str, str] = {}
    for app, name in sorted(loader.applied_migrations or {}):
        if app in loader.migrated_apps:
            heads[app] = max(heads.get(app, ""), name)
    return heads


def code_version() -> str:
    """This code's release: `KAUNTI_VERSION` when the deployment sets it, else what git
    says (`v0.15`, `v0.15-3-gabc1234`), else "unknown"."""
    if settings.KAUNTI_VERSION:
        return str(settings.KAUNTI_VERSION)
    base = Path(settings.BASE_DIR)
    if not (base / ".git").exists():
        return "unknown"
    try:
        described = subprocess.run(  # noqa: S603  (fixed arguments, no shell)
            ["git", "-C", str(base), "describe", "--tags", "--always", "--dirty"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return described.stdout.strip() or "unknown"


def previous_version() -> str:
    """The release the last completed upgrade brought, or "unknown" before the first."""
    last = AuditEvent.objects.filter(action=UPGRADE_COMPLETED).order_by("-id").only("data").first()
    return str((last.data or {}).get("to_version", "unknown")) if last else "unknown"
