import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kaunti.core.models import AuditEvent
from kaunti.core.services.audit import find_first_broken_link
from kaunti.operations import archive
from kaunti.operations.selectors import (
    get_audit_head,
    get_migration_heads,
    get_receipt_sequences,
    get_row_counts,
    get_trial_balance_totals,
)


def _differences(found: dict[str, Any], expected: dict[str, Any]) -> str:
    keys = sorted(set(found) | set(expected))
    return ", ".join(
        f"{key}: {found.get(key)!r} (backup: {expected.get(key)!r})"
        for key in keys
        if found.get(key) != expected.get(key)
    )[:1000]


class Command(BaseCommand):
    help = (
        "Check this database and storage against a backup's manifest: the audit chain, "
        "trial balance, receipt sequences, row counts, migrations and every file's SHA-256."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("manifest", help="The manifest.json a restore wrote out.")

    def handle(self, *args: Any, **options: Any) -> None:
        manifest = json.loads(Path(options["manifest"]).read_text())
        failures: list[str] = []

        def check(label: str, run: Callable[[], str | None]) -> None:
            started = time.monotonic()
            problem = run()
            outcome = "ok" if problem is None else f"FAILED: {problem}"
            self.stdout.write(f"  {label}: {outcome} ({time.monotonic() - started:.1f} s)")
            if problem is not None:
                failures.append(f"{label}: {problem}")

        def audit_chain() -> str | None:
            broken = find_first_broken_link()
            if broken is not None:
                return f"broken at event #{broken.event_id}: {broken.reason}"
            if get_audit_head() != manifest["audit_head"]:
                return _differences(get_audit_head(), manifest["audit_head"])
            return None

        def trial_balance() -> str | None:
            totals = get_trial_balance_totals()
            if totals["total_debit"] != totals["total_credit"]:
                return f"debits {totals['total_debit']} != credits {totals['total_credit']}"
            return _differences(totals, manifest["trial_balance"]) or None

        def files() -> str | None:
            for arcname, expected in manifest["files"].items():
                if not arcname.startswith("files/"):
                    continue
                name = arcname.removeprefix("files/")
                if not default_storage.exists(name):
                    return f"{name} is missing"
                if archive.file_sha256(default_storage, name) != expected["sha256"]:
                    return f"{name} does not match its SHA-256"
            return None

        check(f"audit chain ({AuditEvent.objects.count()} events)", audit_chain)
        check("trial balance zero and as backed up", trial_balance)
        check(
            "receipt sequences",
            lambda: _differences(get_receipt_sequences(), manifest["receipt_sequences"]) or None,
        )
        check("row counts", lambda: _differences(get_row_counts(), manifest["row_counts"]) or None)
        check(
            "migrations",
            lambda: _differences(get_migration_heads(), manifest["migrations"]) or None,
        )
        check(
            f"file checksums ({sum(a.startswith('files/') for a in manifest['files'])} files)",
            files,
        )
        if failures:
            raise CommandError("The restore does not match the backup: " + "; ".join(failures))
        self.stdout.write(self.style.SUCCESS("Restore verified against the backup's manifest."))
