"""`manage.py upgrade` as an operator runs it: what it refuses before changing anything,
the steps it prints, what it leaves behind when a step fails (ADR 22)."""

import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.core import checks
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client
from django.test.utils import override_system_checks

from kaunti.core import maintenance
from kaunti.core import views as core_views
from kaunti.core.models import AuditEvent
from kaunti.core.services.audit import find_first_broken_link, record_event
from kaunti.core.upgrade import checks as upgrade_checks

pytestmark = pytest.mark.django_db

STEP_LINE = re.compile(r"^\[[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} [A-Z]+\] ")


@pytest.fixture(autouse=True)
def _own_files(tmp_path: Path, settings: Any) -> None:
    """The flag, the collected static files and backups in the test's own directory."""
    settings.MAINTENANCE_FLAG_FILE = str(tmp_path / "maintenance.json")
    settings.STATIC_ROOT = str(tmp_path / "static")
    settings.BACKUP_DIR = str(tmp_path / "backups")
    settings.MAINTENANCE_CHECK_SECONDS = 0
    settings.UPGRADE_RESTART_COMMAND = ""
    settings.UPGRADE_SMOKE_URL = ""
    settings.CELERY_BROKER_URL = ""
    settings.KAUNTI_VERSION = "v0.16"
    # A development run (Django's test runner turns DEBUG off; off means production here).
    settings.DEBUG = True


def upgrade(*args: str) -> str:
    out = io.StringIO()
    call_command("upgrade", *args, stdout=out)
    return out.getvalue()


def upgrade_refused(*args: str) -> tuple[str, str]:
    """The error and what was printed before it."""
    out = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("upgrade", *args, stdout=out)
    return str(refused.value), out.getvalue()


def upgrade_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action__startswith="upgrade.").order_by("id"))


def test_an_upgrade_runs_every_step_in_order_and_opens_the_site_again() -> None:
    output = upgrade("--skip-backup")

    lines = [line for line in output.splitlines() if STEP_LINE.match(line)]
    said = [STEP_LINE.sub("", line) for line in lines]
    order = [
        "checking the migration history and the deployment checks",
        "upgrading from unknown to v0.16",
        "0 migration(s) to apply",
        "maintenance on: the site answers 503 (health checks and callbacks excepted)",
        "backup skipped (--skip-backup)",
        "migrate ...",
        "collectstatic ...",
        "restart ...",
        "no UPGRADE_RESTART_COMMAND set: restart the web and worker processes yourself",
        "smoke checks ...",
        "  GET /: 200",
        "  GET /api/v1/services/: 200",
        "  GET /healthz: 200",
        "  GET /readyz: 200",
        "maintenance off: upgrade to v0.16 complete",
    ]
    positions = [said.index(line) for line in order]
    assert positions == sorted(positions)
    assert any(line.startswith("  verify_audit: Audit chain intact") for line in said)
    assert any(line.startswith("  check_trial_balance: Trial balance agrees") for line in said)
    assert maintenance.current_state() is None
    (event,) = upgrade_events()
    assert event.action == "upgrade.completed"
    assert event.actor is None
    assert event.target_id == "v0.16"
    assert event.data["from_version"] == "unknown"
    assert event.data["to_version"] == "v0.16"
    assert event.data["operator"]
    assert event.data["migrations_after"]["payments"] == event.data["migrations_before"]["payments"]
    assert find_first_broken_link() is None


def test_the_next_upgrade_says_which_release_it_comes_from(settings: Any) -> None:
    upgrade("--skip-backup")
    settings.KAUNTI_VERSION = "v0.17"

    output = upgrade("--skip-backup")

    assert "upgrading from v0.16 to v0.17" in output
    assert upgrade_events()[-1].data["from_version"] == "v0.16"


def test_plan_changes_nothing() -> None:
    output = upgrade("--plan", "--skip-backup")

    assert output.splitlines()[-1].endswith("plan only: nothing changed")
    assert maintenance.current_state() is None
    assert upgrade_events() == []


def test_a_recorded_migration_missing_from_the_code_is_refused() -> None:
    MigrationRecorder(connection).record_applied("payments", "0099_from_a_newer_release")

    error, output = upgrade_refused("--skip-backup")

    assert error.startswith("Upgrade refused; nothing was changed:")
    assert (
        "migration payments.0099_from_a_newer_release is recorded as applied but is not in "
        "this code" in error
    )
    assert "maintenance on" not in output
    assert maintenance.current_state() is None
    assert upgrade_events() == []


def test_a_migration_applied_before_its_dependency_is_refused() -> None:
    recorder = MigrationRecorder(connection)
    recorder.migration_qs.filter(app="ledger", name="0003_leaner_indexes").delete()

    error, _output = upgrade_refused("--skip-backup")

    assert "Migration payments.0006_hot_table_indexes is applied before its dependency" in error
    assert maintenance.current_state() is None


def test_a_deployment_check_error_is_refused() -> None:
    def broken_deployment(**kwargs: Any) -> list[checks.CheckMessage]:
        return [checks.Error("the proxy sends no X-Forwarded-Proto", id="kaunti.E999")]

    with override_system_checks([], deployment_checks=[broken_deployment]):
        error, _output = upgrade_refused("--skip-backup")

    assert "kaunti.E999: the proxy sends no X-Forwarded-Proto" in error
    assert maintenance.current_state() is None


def test_skipping_the_backup_in_production_needs_a_backup_of_ones_own(settings: Any) -> None:
    settings.DEBUG = False

    error, _output = upgrade_refused("--skip-backup", "--plan")

    assert "--skip-backup in production needs --i-have-a-backup" in error
    assert upgrade("--skip-backup", "--i-have-a-backup", "--plan").endswith(
        "plan only: nothing changed\n"
    )


@pytest.mark.skipif("backup" in get_commands(), reason="manage.py backup exists")
def test_without_a_backup_command_the_operator_is_told_to_take_one() -> None:
    error, _output = upgrade_refused()

    assert "this version has no `manage.py backup`" in error
    assert maintenance.current_state() is None


@pytest.mark.skipif("backup" not in get_commands(), reason="needs manage.py backup")
@pytest.mark.django_db(transaction=True)  # a backup takes its own snapshot
def test_the_backup_is_taken_into_backup_dir_before_the_migrations(
    settings: Any, tmp_path: Path
) -> None:
    key = tmp_path / "backup.key"
    call_command("backup", "--generate-key", str(key), stdout=io.StringIO())
    settings.BACKUP_KEY_FILE = str(key)

    output = upgrade()

    backups = list(Path(settings.BACKUP_DIR).iterdir())
    assert len(backups) == 1
    assert backups[0].name.startswith("before-upgrade-")
    assert output.index("backup done") < output.index("migrate ...")
    assert upgrade_events()[-1].data["backup"] == str(backups[0])


def test_a_failed_smoke_check_leaves_maintenance_on_and_says_how_to_go_back(
    settings: Any,
) -> None:
    settings.UPGRADE_SMOKE_PATHS = ["/", "/no-such-page/"]

    error, output = upgrade_refused("--skip-backup")

    assert error == "Upgrade failed: smoke checks failed: GET /no-such-page/ answered 404"
    assert "FAILED at smoke checks: GET /no-such-page/ answered 404" in output
    assert "MAINTENANCE IS STILL ON" in output
    assert "restore the backup you took before it" in output
    assert maintenance.current_state() is not None
    (event,) = upgrade_events()
    assert (event.action, event.data["failed_step"]) == ("upgrade.failed", "smoke checks")


def test_a_failed_restart_leaves_maintenance_on(settings: Any) -> None:
    settings.UPGRADE_RESTART_COMMAND = "false"

    error, output = upgrade_refused("--skip-backup")

    assert error == "Upgrade failed: restart failed: exit status 1: "
    assert "running: false" in output
    assert "smoke checks ..." not in output
    assert maintenance.current_state() is not None


def test_a_migration_that_fails_leaves_maintenance_on() -> None:
    """The database says ussd's first migration is not applied, but its tables exist:
    applying it again fails, as a migration meeting an unexpected schema would."""
    MigrationRecorder(connection).migration_qs.filter(app="ussd", name="0001_initial").delete()

    error, output = upgrade_refused("--skip-backup")

    assert error.startswith("Upgrade failed: migrate failed: ")
    assert "ussd.0001_initial" in output
    assert "collectstatic ..." not in output
    assert maintenance.current_state() is not None
    assert upgrade_events()[-1].data["failed_step"] == "migrate"


def test_after_a_failure_the_next_upgrade_is_refused_until_it_is_handled(
    settings: Any,
) -> None:
    settings.UPGRADE_RESTART_COMMAND = "false"
    upgrade_refused("--skip-backup")
    settings.UPGRADE_RESTART_COMMAND = ""

    error, _output = upgrade_refused("--skip-backup")
    output = upgrade("--skip-backup", "--previous-failure-handled")

    assert "a previous upgrade did not finish: maintenance was left on by an upgrade" in error
    assert "maintenance off: upgrade to v0.16 complete" in output
    assert maintenance.current_state() is None


def test_a_failure_recorded_in_the_audit_chain_is_refused_on_another_node() -> None:
    """The flag file is this node's; the audit chain is in the database every node shares."""
    record_event(actor=None, action="upgrade.failed", data={"failed_step": "migrate"})

    error, _output = upgrade_refused("--skip-backup")

    assert "failed at step migrate" in error


def test_large_table_migrations_declare_what_they_lock() -> None:
    """The registry `upgrade --plan` reads: each mark names real tables."""
    loader = MigrationLoader(connection)
    marked = {
        key: migration.LOCKS_LARGE_TABLES  # type: ignore[attr-defined]
        for key, migration in loader.disk_migrations.items()
        if getattr(migration, "LOCKS_LARGE_TABLES", None)
    }
    tables = set(connection.introspection.table_names())

    assert ("payments", "0006_hot_table_indexes") in marked
    assert ("payments", "0005_bill_indexes") in marked
    assert all(table in tables for locks in marked.values() for table in locks)
    lock = upgrade_checks.LargeTableLock(
        migration="payments.0006_hot_table_indexes",
        table="payments_payment",
        what="builds three indexes (writes wait)",
        rows=2_500_000,
    )
    assert lock.describe() == (
        "payments.0006_hot_table_indexes: builds three indexes (writes wait) on "
        "payments_payment (about 2,500,000 rows): expect about 3 minutes"
    )


def test_readyz_is_unavailable_while_a_migration_is_not_applied(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A node running new code on a database not yet migrated takes no traffic."""
    monkeypatch.setattr(core_views, "_migrations_applied", False)
    MigrationRecorder(connection).migration_qs.filter(app="ussd", name="0001_initial").delete()

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == "pending"
    MigrationRecorder(connection).record_applied("ussd", "0001_initial")
    assert client.get("/readyz").json()["checks"]["migrations"] == "ok"
