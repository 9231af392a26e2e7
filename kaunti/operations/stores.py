"""Where backups are kept: a directory (a mounted disk) or an S3-compatible bucket.

A backup is one file, `kaunti-backup-<UTC time>.kbk`; names sort by time, so retention
keeps the last N names. A backup being written is invisible until complete: a file is
renamed into place, an S3 multipart upload completed, at the end.
"""

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import boto3
from django.conf import settings

NAME = re.compile(r"^kaunti-backup-[0-9]{8}T[0-9]{6}Z-[0-9]{6}\.kbk$")
PART = 16 * 1024 * 1024  # S3 multipart parts: 5 MiB at least, 10,000 at most (160 GB)


def backup_name(at: datetime) -> str:
    return f"kaunti-backup-{at:%Y%m%dT%H%M%S}Z-{at:%f}.kbk"


class Store(Protocol):
    def location(self, name: str) -> str: ...
    def names(self) -> list[str]: ...
    def writer(self, name: str) -> contextlib.AbstractContextManager[BinaryIO]: ...
    def reader(self, name: str) -> contextlib.AbstractContextManager[BinaryIO]: ...
    def delete(self, name: str) -> None: ...


@dataclass
class DirectoryStore:
    directory: Path

    def location(self, name: str) -> str:
        return str(self.directory / name)

    def names(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(path.name for path in self.directory.iterdir() if NAME.match(path.name))

    @contextlib.contextmanager
    def writer(self, name: str) -> Iterator[BinaryIO]:
        self.directory.mkdir(parents=True, exist_ok=True)
        partial = self.directory / f".{name}.partial"
        try:
            with partial.open("xb") as out:
                yield out
            partial.rename(self.directory / name)
        finally:
            partial.unlink(missing_ok=True)

    @contextlib.contextmanager
    def reader(self, name: str) -> Iterator[BinaryIO]:
        with (self.directory / name).open("rb") as source:
            yield source

    def delete(self, name: str) -> None:
        (self.directory / name).unlink(missing_ok=True)


class _MultipartWriter:
    """A write-only file object that uploads 16 MiB parts as they fill."""

    def __init__(self, client: Any, bucket: str, key: str) -> None:
        self._client, self._bucket, self._key = client, bucket, key
        self._upload = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        self._parts: list[dict[str, Any]] = []
        self._buffer = bytearray()

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self._buffer += data
        while len(self._buffer) >= PART:
            self._send(bytes(self._buffer[:PART]))
            del self._buffer[:PART]
        return len(data)

    def _send(self, body: bytes) -> None:
        number = len(self._parts) + 1
        answer = self._client.upload_part(
            Bucket=self._bucket, Key=self._key, UploadId=self._upload, PartNumber=number, Body=body
        )
        self._parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    def complete(self) -> None:
        if self._buffer or not self._parts:
            self._send(bytes(self._buffer))
        self._client.complete_multipart_upload(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload,
            MultipartUpload={"Parts": self._parts},
        )

    def abort(self) -> None:
        self._client.abort_multipart_upload(
            Bucket=self._bucket, Key=self._key, UploadId=self._upload
        )


@dataclass
class S3Store:
    """A bucket and prefix; credentials as boto3 finds them (AWS_* variables, a profile)."""

    bucket: str
    prefix: str

    def __post_init__(self) -> None:
        self.prefix = self.prefix.strip("/")
        self._client = boto3.client("s3", endpoint_url=settings.BACKUP_S3_ENDPOINT_URL or None)

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def location(self, name: str) -> str:
        return f"s3://{self.bucket}/{self._key(name)}"

    def names(self) -> list[str]:
        found: list[str] = []
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}/" if self.prefix else ""
        )
        for page in pages:
            for item in page.get("Contents", []):
                name = item["Key"].rsplit("/", 1)[-1]
                if NAME.match(name) and item["Key"] == self._key(name):
                    found.append(name)
        return sorted(found)

    @contextlib.contextmanager
    def writer(self, name: str) -> Iterator[BinaryIO]:
        upload = _MultipartWriter(self._client, self.bucket, self._key(name))
        try:
            yield upload  # type: ignore[misc]
        except BaseException:
            upload.abort()
            raise
        upload.complete()

    @contextlib.contextmanager
    def reader(self, name: str) -> Iterator[BinaryIO]:
        body = self._client.get_object(Bucket=self.bucket, Key=self._key(name))["Body"]
        try:
            yield body
        finally:
            body.close()

    def delete(self, name: str) -> None:
        self._client.delete_object(Bucket=self.bucket, Key=self._key(name))


def store_for(destination: str) -> Store:
    """`s3://bucket/prefix` or a directory."""
    if destination.startswith("s3://"):
        bucket, _, prefix = destination.removeprefix("s3://").partition("/")
        return S3Store(bucket=bucket, prefix=prefix)
    return DirectoryStore(directory=Path(destination).expanduser().resolve())


def locate(source: str) -> tuple[Store, str]:
    """A backup named by its file (or S3 object), or the newest in a directory or prefix."""
    if not source.startswith("s3://"):
        path = Path(source).expanduser().resolve()
        if path.is_file():
            return DirectoryStore(directory=path.parent), path.name
    tail = source.rstrip("/").rsplit("/", 1)[-1]
    if source.startswith("s3://") and NAME.match(tail):
        return store_for(source.rstrip("/").rsplit("/", 1)[0]), tail
    store = store_for(source)
    names = store.names()
    if not names:
        raise FileNotFoundError(f"No Kaunti backup at {source}.")
    return store, names[-1]
