"""Bring a backup back: into an empty database, its files into storage (ADR 20).

Nothing is touched until the whole backup has been read, every chunk authenticated, and
every file's SHA-256 matched against the manifest: a damaged backup leaves the target
as it was.
"""

import json
import tarfile
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.files.storage import Storage
from django.db import connections

from kaunti.operations import archive, databases
from kaunti.operations.crypto import BackupDamagedError, DecryptingReader
from kaunti.operations.stores import locate


@dataclass
class RestoreResult:
    location: str
    manifest: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)


def _unpack(source: str, key: bytes, staging: Path) -> tuple[str, dict[str, dict[str, Any]]]:
    """Decrypt and unpack into `staging`; return the location and each file's size and hash."""
    store, name = locate(source)
    seen: dict[str, dict[str, Any]] = {}
    with store.reader(name) as raw:
        reader = DecryptingReader(raw, key)
        with tarfile.open(fileobj=reader, mode="r|") as tar:  # type: ignore[call-overload]
            for member in tar:
                if not member.isfile():
                    raise BackupDamagedError(
                        f"The backup holds something not a file: {member.name!r}."
                    )
                target = archive.safe_member_path(staging, member.name)
                target.parent.mkdir(parents=True, exist_ok=True)
                extracted = tar.extractfile(member)
                assert extracted is not None  # a regular file always has a stream
                with target.open("xb") as out:
                    size, sha256 = archive.copy_hashing(extracted, out)
                seen[member.name] = {"size": size, "sha256": sha256}
        reader.read_to_end()
    return store.location(name), seen


def _check_against_manifest(staging: Path, seen: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    if archive.MANIFEST not in seen:
        raise BackupDamagedError("The backup has no manifest.")
    manifest: dict[str, Any] = json.loads((staging / archive.MANIFEST).read_text())
    listed: dict[str, Any] = manifest.get("files", {})
    for arcname, expected in listed.items():
        found = seen.get(arcname)
        if found is None:
            raise BackupDamagedError(f"{arcname} is in the manifest but not in the backup.")
        if found["sha256"] != expected["sha256"] or found["size"] != expected["size"]:
            raise BackupDamagedError(f"{arcname} does not match its SHA-256 in the manifest.")
    extra = set(seen) - set(listed) - {archive.MANIFEST}
    if extra:
        raise BackupDamagedError(
            f"The backup holds files its manifest does not list: {sorted(extra)[:3]}."
        )
    return manifest


def _conflicting_files(storage: Storage, staging: Path, manifest: Mapping[str, Any]) -> list[str]:
    conflicts = []
    for arcname, expected in manifest["files"].items():
        if not arcname.startswith("files/"):
            continue
        name = arcname.removeprefix("files/")
        if storage.exists(name) and archive.file_sha256(storage, name) != expected["sha256"]:
            conflicts.append(name)
    return conflicts


def restore_backup(
    *,
    source: str,
    key: bytes,
    database: Mapping[str, Any],
    storage: Storage,
    force: bool = False,
    jobs: int = 2,
    progress: Callable[[str], None] = lambda message: None,
) -> RestoreResult:
    """Restore the backup at `source` into `database` (settings-style) and `storage`.

    Refuses a target database that holds tables, and files in storage that differ from
    the backup's, unless `force` (which empties the database and overwrites the files).
    """
    engine = databases.engine_name(database)
    if not force and not databases.is_empty(database):
        raise databases.RestoreRefusedError(
            f"The target database {database['NAME']} is not empty; restore into an empty one, "
            "or give --force to replace what it holds."
        )
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="kaunti-restore-") as staging_name:
        staging = Path(staging_name)
        started = time.monotonic()
        location, seen = _unpack(source, key, staging)
        manifest = _check_against_manifest(staging, seen)
        timings["read, decrypt and check"] = time.monotonic() - started
        progress(
            f"{location}: every chunk authenticated, {len(seen) - 1} checksums match the manifest."
        )
        if manifest["database"]["engine"] != engine:
            raise databases.RestoreRefusedError(
                f"This is a {manifest['database']['engine']} backup; the target is {engine}."
            )
        conflicts = _conflicting_files(storage, staging, manifest)
        if conflicts and not force:
            raise databases.RestoreRefusedError(
                f"{len(conflicts)} files in storage differ from the backup's (first: {conflicts[0]}); "
                "give --force to overwrite them."
            )

        started = time.monotonic()
        connections.close_all()  # the target may be this process's own database
        databases.prepare_target(database, clear=force)
        databases.restore(database=database, dumped=staging / "database", jobs=jobs)
        timings["database restore"] = time.monotonic() - started
        progress(f"Database restored ({timings['database restore']:.1f} s).")
        started = time.monotonic()
        databases.analyze(database)
        timings["planner statistics"] = time.monotonic() - started

        started = time.monotonic()
        for arcname in manifest["files"]:
            if not arcname.startswith("files/"):
                continue
            name = arcname.removeprefix("files/")
            if storage.exists(name):
                if name not in conflicts:
                    continue  # already there, byte for byte
                storage.delete(name)
            with (staging / arcname).open("rb") as content:
                saved = storage.save(name, File(content))
            if saved != name:
                raise RuntimeError(f"Storage saved {name} as {saved}.")
        timings["files restore"] = time.monotonic() - started
    return RestoreResult(location=location, manifest=manifest, timings=timings)
