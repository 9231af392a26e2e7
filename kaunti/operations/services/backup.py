"""Take a backup: the database in one snapshot, the stored files, a manifest, encrypted
under the operator's key, written to a directory or an S3-compatible store (ADR 20)."""

import io
import json
import os
import platform
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import Storage, default_storage
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from kaunti.core.services.audit import record_event
from kaunti.operations import archive, databases
from kaunti.operations.crypto import EncryptingWriter, key_id
from kaunti.operations.selectors import collect_facts
from kaunti.operations.stores import backup_name, store_for

FORMAT = 1


@dataclass
class BackupResult:
    location: str
    name: str
    manifest: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)


def _code_version() -> dict[str, str]:
    try:
        version = metadata.version("kaunti")
    except metadata.PackageNotFoundError:
        version = ""
    commit = os.environ.get("KAUNTI_COMMIT", "")
    if not commit:
        try:
            commit = subprocess.run(
                ["git", "rev-parse", "HEAD"],  # noqa: S607
                cwd=settings.BASE_DIR,
                capture_output=True,
                text=True,
                check=False,
            ).stdout.strip()
        except OSError:
            commit = ""
    return {"version": version, "commit": commit, "python": platform.python_version()}


def _server_version() -> str:
    if connection.vendor == "postgresql":
        return str(connection.pg_version)  # type: ignore[attr-defined]
    import sqlite3

    return sqlite3.sqlite_version


def take_backup(
    *,
    destination: str,
    key: bytes,
    keep: int | None = None,
    jobs: int = 2,
    storage: Storage | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> BackupResult:
    """Back up the default database and storage to `destination`; keep the newest `keep`.

    The database and the facts in the manifest come from one snapshot; the files are
    copied after it, so every file the database names is there. Writes one audit event.
    """
    storage = storage or default_storage
    database = settings.DATABASES["default"]
    store = store_for(destination)
    taken_at = datetime.now(UTC)
    name = backup_name(taken_at)
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="kaunti-backup-") as staging:
        started = time.monotonic()
        with databases.frozen_database() as snapshot:
            databases.dump(
                database=database, snapshot=snapshot, into=Path(staging) / "db", jobs=jobs
            )
            facts = collect_facts()
        timings["database dump"] = time.monotonic() - started
        progress(f"Database dumped ({timings['database dump']:.1f} s).")

        started = time.monotonic()
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "taken_at": taken_at.isoformat(),
            "code": _code_version(),
            "database": {"engine": databases.engine_name(database), "server": _server_version()},
            "key_id": key_id(key),
            **facts,
        }
        with store.writer(name) as out:
            encrypted = EncryptingWriter(out, key)
            with tarfile.open(fileobj=encrypted, mode="w|", format=tarfile.PAX_FORMAT) as tar:  # type: ignore[call-overload]
                files = archive.add_directory(tar, Path(staging) / "db", "database")
                for stored in archive.storage_names(storage):
                    with storage.open(stored, "rb") as source:
                        files[f"files/{stored}"] = archive.add_stream(
                            tar, f"files/{stored}", source, storage.size(stored)
                        )
                manifest["files"] = files
                body = json.dumps(manifest, indent=1, sort_keys=True).encode()
                archive.add_stream(tar, archive.MANIFEST, io.BytesIO(body), len(body))
            encrypted.close()
        timings["encrypt and store"] = time.monotonic() - started
    removed = apply_retention(destination=destination, keep=keep) if keep else []
    location = store.location(name)
    # Before an upgrade's migrations the tables are those of the release being left: its
    # audit chain is not the one this code writes, so the upgrade records the backup in
    # its own event once migrated, and nothing is written here.
    if _schema_is_current():
        _record_backup(name, location, manifest, removed)
    return BackupResult(
        location=location, name=name, manifest=manifest, timings=timings, removed=removed
    )


def apply_retention(*, destination: str, keep: int) -> list[str]:
    """Delete all but the newest `keep` backups in `destination`; return what went."""
    if keep < 1:
        raise ValueError("Keep at least one backup.")
    store = store_for(destination)
    names = store.names()
    removed = names[:-keep]
    for name in removed:
        store.delete(name)
    return removed


def _schema_is_current() -> bool:
    executor = MigrationExecutor(connection)
    return not executor.migration_plan(executor.loader.graph.leaf_nodes())


def _record_backup(name: str, location: str, manifest: dict, removed: list[str]) -> None:
    with transaction.atomic():
        record_event(
            actor=None,
            action="backup.taken",
            target_type="backup",
            target_id=name,
            data={
                "location": location,
                "audit_head": manifest["audit_head"],
                "files": len(manifest["files"]),
                "removed": removed,
            },
        )
