"""The upgrade's steps, in order, each printed with its time (ADR 22).

Refuse (nothing changed) → maintenance on → backup → migrate → collectstatic → restart →
smoke checks → maintenance off. A failure once the site is closed stops the upgrade and
leaves maintenance on, since the database may be half-migrated: the operator is told what
failed and how to restore the backup just taken. A failed backup changed nothing, so the
site is opened again.
"""

import getpass
import io
import shlex
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from io import TextIOBase
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError
from django.db import DatabaseError, transaction
from django.test import Client
from django.utils import timezone

from kaunti.core import maintenance
from kaunti.core.services.audit import record_event
from kaunti.core.upgrade import checks


class UpgradeRefused(Exception):
    """The upgrade did not start: nothing was changed."""


class UpgradeFailed(Exception):
    """A step failed after the site was closed: maintenance is left on."""


@dataclass
class UpgradeOptions:
    skip_backup: bool = False
    have_backup: bool = False
    previous_failure_handled: bool = False
    plan_only: bool = False


@dataclass
class Upgrade:
    """One run of `manage.py upgrade`, writing its progress to `out`."""

    out: TextIOBase
    options: UpgradeOptions
    backup_dir: str = ""
    step: str = ""
    from_version: str = "unknown"
    to_version: str = "unknown"
    heads_before: dict[str, str] = field(default_factory=dict)

    def say(self, message: str) -> None:
        self.out.write(f"[{timezone.localtime():%Y-%m-%d %H:%M:%S %Z}] {message}\n")
        self.out.flush()

    # --- Before anything changes --------------------------------------------------------
    def refuse_if_unsafe(self) -> None:
        self.say("checking the migration history and the deployment checks")
        problems = checks.migration_problems()
        problems += checks.deployment_errors()
        failure = checks.previous_failure()
        if failure and not self.options.previous_failure_handled:
            problems.append(
                f"a previous upgrade did not finish: {failure}. Restore its backup (or fix "
                "what failed), then run again with --previous-failure-handled"
            )
        if not self.options.skip_backup and "backup" not in get_commands():
            problems.append(
                "this version has no `manage.py backup`: take a backup of the database "
                "yourself, then run with --skip-backup --i-have-a-backup"
            )
        if self.options.skip_backup and not settings.DEBUG and not self.options.have_backup:
            problems.append(
                "--skip-backup in production needs --i-have-a-backup (a backup you have "
                "taken and checked yourself)"
            )
        if problems:
            raise UpgradeRefused("\n".join(f"  - {problem}" for problem in problems))

    def print_plan(self) -> None:
        self.from_version = checks.previous_version()
        self.to_version = checks.code_version()
        self.heads_before = checks.applied_heads()
        pending = checks.pending_migrations()
        self.say(f"upgrading from {self.from_version} to {self.to_version}")
        self.say(f"{len(pending)} migration(s) to apply" + (":" if pending else ""))
        for name in pending:
            self.out.write(f"    {name}\n")
        for lock in checks.large_table_locks():
            self.say(f"LOCKS A LARGE TABLE: {lock.describe()}")

    # --- The steps ----------------------------------------------------------------------
    def run(self) -> None:
        self.refuse_if_unsafe()
        self.print_plan()
        if self.options.plan_only:
            self.say("plan only: nothing changed")
            return
        state = maintenance.switch_on(
            reason=f"{checks.UPGRADE_REASON} to {self.to_version}", by=getpass.getuser()
        )
        self.say("maintenance on: the site answers 503 (health checks and callbacks excepted)")
        # Every process looks at the flag once in this interval: after it, none serves.
        time.sleep(settings.MAINTENANCE_CHECK_SECONDS)
        try:
            self._backup()
        except Exception as error:
            maintenance.switch_off()
            self.say(f"FAILED at backup: {error}")
            self.say("nothing was changed; maintenance is off again")
            raise UpgradeFailed(f"backup failed: {error}") from error
        steps: list[tuple[str, Callable[[], None]]] = [
            ("migrate", self._migrate),
            ("collectstatic", self._collect_static),
            ("restart", self._restart),
            ("smoke checks", lambda: self._smoke_checks(state.bypass_token)),
        ]
        for name, step in steps:
            self.step = name
            started = time.monotonic()
            self.say(f"{name} ...")
            try:
                step()
            except Exception as error:
                self._fail(name, error)
                raise UpgradeFailed(f"{name} failed: {error}") from error
            self.say(f"{name} done ({time.monotonic() - started:.1f} s)")
        self._record(checks.UPGRADE_COMPLETED, "")
        maintenance.switch_off()
        self.say(f"maintenance off: upgrade to {self.to_version} complete")

    def _backup(self) -> None:
        if self.options.skip_backup:
            self.say("backup skipped (--skip-backup)")
            return
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        directory = Path(settings.BACKUP_DIR) / f"before-upgrade-{stamp}"
        self.say(f"backup to {directory} ...")
        call_command("backup", "--to", str(directory), stdout=self.out)
        self.backup_dir = str(directory)
        self.say("backup done")

    def _migrate(self) -> None:
        call_command("migrate", interactive=False, stdout=self.out, verbosity=1)

    def _collect_static(self) -> None:
        call_command("collectstatic", interactive=False, stdout=io.StringIO(), verbosity=0)

    def _restart(self) -> None:
        command = settings.UPGRADE_RESTART_COMMAND
        if not command:
            self.say(
                "no UPGRADE_RESTART_COMMAND set: restart the web and worker processes yourself"
            )
            return
        self.say(f"running: {command}")
        finished = subprocess.run(  # noqa: S603  (the operator's own setting)
            shlex.split(command), capture_output=True, text=True, timeout=600, check=False
        )
        if finished.returncode != 0:
            raise CommandError(
                f"exit status {finished.returncode}: {(finished.stderr or finished.stdout).strip()}"
            )

    def _smoke_checks(self, bypass_token: str) -> None:
        for path in settings.UPGRADE_SMOKE_PATHS:
            status = _get_status(path, bypass_token)
            self.say(f"  GET {path}: {status}")
            if not 200 <= status < 400:
                raise CommandError(f"GET {path} answered {status}")
        for command in ("verify_audit", "check_trial_balance"):
            output = io.StringIO()
            call_command(command, stdout=output)
            self.say(f"  {command}: {output.getvalue().strip()}")

    # --- Records ------------------------------------------------------------------------
    def _fail(self, step: str, error: BaseException) -> None:
        self.say(f"FAILED at {step}: {error}")
        try:
            self._record(checks.UPGRADE_FAILED, step)
        except DatabaseError as record_error:
            self.say(f"(could not record the failure in the audit chain: {record_error})")
        self.say("MAINTENANCE IS STILL ON: the site answers 503 until you act.")
        if self.backup_dir:
            self.say(
                f"To go back: restore the backup taken just now, {self.backup_dir} "
                "(docs/operations/backup.md), deploy the previous release's code, then "
                "`manage.py maintenance off`."
            )
        else:
            self.say(
                "No backup was taken by this run (--skip-backup): restore the backup you "
                "took before it, deploy the previous release's code, then "
                "`manage.py maintenance off`."
            )
        self.say(
            "Or fix what failed and run `manage.py upgrade --previous-failure-handled` "
            "(docs/operations/upgrade.md)."
        )

    def _record(self, action: str, failed_step: str) -> None:
        data = {
            "operator": getpass.getuser(),
            "host": socket.gethostname(),
            "from_version": self.from_version,
            "to_version": self.to_version,
            "migrations_before": self.heads_before,
            "migrations_after": checks.applied_heads(),
            "backup": self.backup_dir,
        }
        if failed_step:
            data["failed_step"] = failed_step
        with transaction.atomic():
            record_event(
                actor=None,
                action=action,
                target_type="release",
                target_id=self.to_version,
                data=data,
            )


def _get_status(path: str, bypass_token: str) -> int:
    """The status of a GET past maintenance: over HTTP to `UPGRADE_SMOKE_URL` (the
    restarted servers), else in this process through the whole Django stack."""
    headers = {maintenance.BYPASS_HEADER: bypass_token}
    if settings.UPGRADE_SMOKE_URL:
        request = urllib.request.Request(  # noqa: S310  (the operator's own URL)
            settings.UPGRADE_SMOKE_URL.rstrip("/") + path, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except (urllib.error.URLError, OSError):
            return 0
    site = urlsplit(settings.SITE_URL)
    client = Client(HTTP_HOST=site.netloc or "localhost")
    response = client.get(
        path, secure=site.scheme == "https" or not settings.DEBUG, headers=headers
    )
    return int(response.status_code)
