"""A backup's encryption: AES-256-GCM over 1 MiB chunks, streamed (ADR 20).

The operator's key file holds 32 random bytes (base64). Each backup draws a random salt
and derives its own key from the operator's with HKDF-SHA256, so a nonce never repeats
under one key: a chunk's nonce is its number (11 bytes) and a last-chunk flag. The
header (format, salt, key id) is authenticated with every chunk; a chunk changed,
dropped, moved or cut off fails its tag, and a stream that ends before its flagged
last chunk is refused as truncated.

    header:  b"KAUNTIBK" | version (1) | key id (8) | salt (32)
    chunks:  AES-GCM(chunk) + 16-byte tag, each 1 MiB of plain text but the last (shorter,
             possibly empty), whose nonce carries the last-chunk flag
"""

import base64
import hashlib
import os
import secrets
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"KAUNTIBK"
VERSION = 1
CHUNK = 1024 * 1024
TAG = 16
KEY_BYTES = 32
HEADER_LENGTH = len(MAGIC) + 1 + 8 + 32


class BackupKeyError(Exception):
    """The key file is missing, unreadable, or not the key this backup was made with."""


class BackupDamagedError(Exception):
    """The backup's bytes are not what was written: altered, truncated or not a backup."""


def generate_key_file(path: Path) -> str:
    """Write a new key (readable by its owner only) and return its id; never overwrite."""
    key = secrets.token_bytes(KEY_BYTES)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(
            "# Kaunti backup key. Whoever holds this file can read the backups; without it\n"
            "# nobody can, the county included. Keep a copy apart from the backups.\n"
        )
        out.write(base64.b64encode(key).decode() + "\n")
    return key_id(key)


def load_key(path: Path) -> bytes:
    """The 32-byte key from a key file (comment lines ignored)."""
    try:
        lines = path.read_text().splitlines()
    except OSError as error:
        raise BackupKeyError(f"Cannot read the key file {path}: {error.strerror}.") from error
    body = "".join(line.strip() for line in lines if line.strip() and not line.startswith("#"))
    try:
        key = base64.b64decode(body, validate=True)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise BackupKeyError(
            f"{path} is not a Kaunti backup key (make one with manage.py backup --generate-key)."
        )
    return key


def key_id(key: bytes) -> str:
    """A short public fingerprint of a key, to tell keys apart without showing them."""
    return hashlib.sha256(b"kaunti-backup-key-id" + key).hexdigest()[:16]


def _stream_cipher(key: bytes, salt: bytes) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"kaunti-backup-v1")
    return AESGCM(derived.derive(key))


def _nonce(number: int, *, last: bool) -> bytes:
    return number.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class EncryptingWriter:
    """A write-only file object: what is written to it reaches `out` encrypted."""

    def __init__(self, out: BinaryIO, key: bytes) -> None:
        self._out = out
        salt = secrets.token_bytes(32)
        self._header = MAGIC + bytes([VERSION]) + bytes.fromhex(key_id(key)) + salt
        self._cipher = _stream_cipher(key, salt)
        self._buffer = bytearray()
        self._number = 0
        self._closed = False
        out.write(self._header)

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self._buffer += data
        while len(self._buffer) > CHUNK:  # keep at least one byte back for the last chunk
            self._seal(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(data)

    def _seal(self, plain: bytes, *, last: bool) -> None:
        nonce = _nonce(self._number, last=last)
        self._out.write(self._cipher.encrypt(nonce, plain, self._header))
        self._number += 1

    def close(self) -> None:
        """Seal the last chunk (flagged as last); the underlying file is the caller's."""
        if not self._closed:
            if len(self._buffer) == CHUNK:
                self._seal(bytes(self._buffer), last=False)
                self._buffer.clear()
            self._seal(bytes(self._buffer), last=True)
            self._closed = True

    def flush(self) -> None:
        """Nothing to do: chunks leave as soon as they are full."""


class DecryptingReader:
    """A read-only file object over an encrypted stream; every chunk checked before use."""

    def __init__(self, source: BinaryIO, key: bytes) -> None:
        self._source = source
        header = _read_exactly(source, HEADER_LENGTH)
        if len(header) < HEADER_LENGTH or not header.startswith(MAGIC):
            raise BackupDamagedError("This is not a Kaunti backup (its header is not one).")
        if header[len(MAGIC)] != VERSION:
            raise BackupDamagedError(
                f"Backup format {header[len(MAGIC)]} is not one this version reads."
            )
        made_with = header[len(MAGIC) + 1 : len(MAGIC) + 9].hex()
        if made_with != key_id(key):
            raise BackupKeyError(
                f"Wrong key: this backup was encrypted with key {made_with}, "
                f"the key file given is key {key_id(key)}."
            )
        self._header = header
        self._cipher = _stream_cipher(key, header[len(MAGIC) + 9 :])
        self._plain = b""
        self._offset = 0
        self._number = 0
        self._ended = False

    def _next_chunk(self) -> None:
        sealed = _read_exactly(self._source, CHUNK + TAG)
        last = len(sealed) < CHUNK + TAG
        if len(sealed) < TAG:
            raise BackupDamagedError("The backup is truncated: its last chunk is missing.")
        try:
            self._plain = self._cipher.decrypt(
                _nonce(self._number, last=last), sealed, self._header
            )
        except InvalidTag as error:
            raise BackupDamagedError(
                f"The backup was altered or truncated: chunk {self._number} fails its "
                "authentication tag."
            ) from error
        self._offset = 0
        self._number += 1
        if last:
            self._ended = True
            if self._source.read(1):
                raise BackupDamagedError("The backup has bytes after its last chunk.")

    def read(self, size: int = -1) -> bytes:
        parts: list[bytes] = []
        wanted = size if size >= 0 else None
        while wanted is None or wanted > 0:
            if self._offset >= len(self._plain):
                if self._ended:
                    break
                self._next_chunk()
                continue
            end = (
                len(self._plain) if wanted is None else min(len(self._plain), self._offset + wanted)
            )
            part = self._plain[self._offset : end]
            self._offset = end
            parts.append(part)
            if wanted is not None:
                wanted -= len(part)
        return b"".join(parts)

    def read_to_end(self) -> None:
        """Read (and so authenticate) whatever is left, up to the last chunk."""
        while self.read(CHUNK):
            pass


def _read_exactly(source: BinaryIO, size: int) -> bytes:
    """Up to `size` bytes, fewer only at the end (network streams return short reads)."""
    parts: list[bytes] = []
    while size > 0:
        part = source.read(size)
        if not part:
            break
        parts.append(part)
        size -= len(part)
    return b"".join(parts)
