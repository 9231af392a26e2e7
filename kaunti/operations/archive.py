"""A backup's inside: one tar stream, encrypted as it is written (crypto.py).

database/...        the dump (pg_dump's directory, or database.sqlite3)
files/<name>        every file in storage, under its storage name
manifest.json       last, once every file's SHA-256 is known
"""

import hashlib
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from django.core.files.storage import Storage

MANIFEST = "manifest.json"
READ = 1024 * 1024


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class HashingReader:
    """Reads through to `source`, hashing what passes."""

    def __init__(self, source: Readable) -> None:
        self._source = source
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        self.sha256.update(data)
        self.size += len(data)
        return data


def storage_names(storage: Storage, directory: str = "") -> Iterator[str]:
    """Every file name in a storage, depth first; nothing when its root does not exist."""
    try:
        directories, files = storage.listdir(directory)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield f"{directory}/{name}" if directory else name
    for sub in sorted(directories):
        yield from storage_names(storage, f"{directory}/{sub}" if directory else sub)


def add_stream(
    tar: tarfile.TarFile, arcname: str, source: Readable, size: int
) -> dict[str, object]:
    """Add `size` bytes from `source` under `arcname`; return its size and SHA-256."""
    info = tarfile.TarInfo(arcname)
    info.size = size
    info.mtime = int(time.time())
    info.mode = 0o600
    reader = HashingReader(source)
    tar.addfile(info, reader)
    if reader.size != size:
        raise RuntimeError(f"{arcname} changed size while it was being backed up.")
    return {"size": size, "sha256": reader.sha256.hexdigest()}


def add_directory(tar: tarfile.TarFile, root: Path, prefix: str) -> dict[str, dict[str, object]]:
    found: dict[str, dict[str, object]] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        arcname = f"{prefix}/{path.relative_to(root).as_posix()}"
        with path.open("rb") as source:
            found[arcname] = add_stream(tar, arcname, source, path.stat().st_size)
    return found


def safe_member_path(staging: Path, name: str) -> Path:
    """Where a member unpacks, refusing names that would leave the staging directory."""
    target = (staging / name).resolve()
    if not target.is_relative_to(staging.resolve()) or name.startswith("/"):
        raise ValueError(f"The backup names a file outside itself: {name!r}.")
    return target


def copy_hashing(source: BinaryIO, out: BinaryIO) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    while chunk := source.read(READ):
        digest.update(chunk)
        size += len(chunk)
        out.write(chunk)
    return size, digest.hexdigest()


def file_sha256(storage: Storage, name: str) -> str:
    digest = hashlib.sha256()
    with storage.open(name, "rb") as source:
        while chunk := source.read(READ):
            digest.update(chunk)
    return digest.hexdigest()
