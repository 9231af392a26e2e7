"""Backups taken and restored through the commands an operator runs (docs/operations/backup.md)."""

import contextlib
import io
import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
from django.core.management import CommandError
from django.db import connection
from moto.server import ThreadedMotoServer

from kaunti.core.models import AuditEvent
from kaunti.operations import databases
from kaunti.operations.crypto import CHUNK, DecryptingReader, EncryptingWriter, load_key
from kaunti.operations.services.backup import apply_retention
from kaunti.operations.stores import store_for
from kaunti.payments.models import Payment, Receipt, ReceiptSequence

# What must come back identical, row for row.
TABLES = [
    "core_auditevent",
    "ledger_journalentry",
    "ledger_journalline",
    "payments_bill",
    "payments_payment",
    "payments_receipt",
    "payments_receiptsequence",
]
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)"
)
on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="the embedded default")


def rows_here(table: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} ORDER BY id")  # noqa: S608  (our table names)
        return [tuple(str(value) for value in row) for row in cursor.fetchall()]


def rows_in(database: dict[str, Any], table: str) -> list[tuple[Any, ...]]:
    query = f"SELECT * FROM {table} ORDER BY id"  # noqa: S608  (our table names)
    if databases.engine_name(database) == "postgresql":
        with psycopg.connect(databases.conninfo(database, name=database["NAME"])) as target:
            found = target.execute(query).fetchall()
    else:
        # Read as Django reads SQLite (its converters for booleans, dates, decimals).
        reading = sqlite3.connect(database["NAME"], detect_types=sqlite3.PARSE_DECLTYPES)
        with contextlib.closing(reading) as target:
            found = target.execute(query).fetchall()
    return [tuple(_text(value) for value in row) for row in found]


def _text(value: Any) -> str:
    """A value as Django's cursor gives it (JSON as its text)."""
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def only_backup(directory: Path) -> Path:
    [backup] = sorted(directory.glob("kaunti-backup-*.kbk"))
    return backup


def round_trip(
    run: Callable[..., str], tmp_path: Path, key_file: Path, media: Path, target: dict[str, Any]
) -> None:
    output = run("backup", "--to", str(tmp_path / "backups"), "--key-file", str(key_file))
    backup = only_backup(tmp_path / "backups")
    assert output.splitlines()[-1] == str(backup)
    # The backup records itself in the chain, after its snapshot: compare without it.
    taken = AuditEvent.objects.get(action="backup.taken")
    assert taken.target_id == backup.name
    assert databases.is_empty(target)
    run(
        "restore", str(backup), "--key-file", str(key_file),
        "--database-url", databases.database_url(target),
        "--media-root", str(tmp_path / "restored-media"),
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM core_auditevent WHERE action <> 'backup.taken'")
        before_backup = cursor.fetchone()[0]
    assert rows_in(target, "core_auditevent")[-1][0] == str(before_backup)
    for table in TABLES:
        if table == "core_auditevent":
            assert rows_in(target, table) == [
                row for row in rows_here(table) if int(row[0]) <= before_backup
            ]
        else:
            assert rows_in(target, table) == rows_here(table), table
    originals = sorted(p.relative_to(media) for p in media.rglob("*") if p.is_file())
    restored = tmp_path / "restored-media"
    assert sorted(p.relative_to(restored) for p in restored.rglob("*") if p.is_file()) == originals
    for name in originals:
        assert (restored / name).read_bytes() == (media / name).read_bytes()


@on_postgresql
def test_postgresql_backup_restores_rows_files_audit_chain_and_receipts_identically(
    county_money: list[Payment], media: Path, key_file: Path, tmp_path: Path,
    run: Callable[..., str], scratch_database: dict[str, Any],
) -> None:  # fmt: skip
    assert Receipt.objects.count() == 2
    round_trip(run, tmp_path, key_file, media, scratch_database)
    sequences = rows_in(scratch_database, "payments_receiptsequence")
    assert [int(row[-1]) for row in sequences] == [
        sequence.last_number for sequence in ReceiptSequence.objects.order_by("id")
    ]


@on_sqlite
def test_sqlite_backup_restores_rows_files_audit_chain_and_receipts_identically(
    county_money: list[Payment], media: Path, key_file: Path, tmp_path: Path,
    run: Callable[..., str], scratch_database: dict[str, Any],
) -> None:  # fmt: skip
    round_trip(run, tmp_path, key_file, media, scratch_database)


def test_drill_restores_into_a_fresh_database_and_checks_it_against_the_manifest(
    county_money: list[Payment], media: Path, key_file: Path, tmp_path: Path,
    run: Callable[..., str],
) -> None:  # fmt: skip
    run("backup", "--to", str(tmp_path / "backups"), "--key-file", str(key_file))
    before = databases_named_like_this_one()

    output = run("restore_drill", str(tmp_path / "backups"), "--key-file", str(key_file))

    assert "audit chain (" in output
    for check in ("trial balance zero", "receipt sequences", "row counts", "file checksums"):
        assert f"{check}" in output
    assert "FAILED" not in output
    assert "Drill passed" in output
    assert databases_named_like_this_one() == before  # the scratch database is gone


def databases_named_like_this_one() -> list[str]:
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY 1",
            [connection.settings_dict["NAME"] + "%"],
        )
        return [row[0] for row in cursor.fetchall()]


def test_a_backup_altered_by_one_byte_is_refused_and_the_target_left_untouched(
    county_money: list[Payment], media: Path, key_file: Path, tmp_path: Path,
    run: Callable[..., str], scratch_database: dict[str, Any],
) -> None:  # fmt: skip
    run("backup", "--to", str(tmp_path / "backups"), "--key-file", str(key_file))
    backup = only_backup(tmp_path / "backups")
    altered = bytearray(backup.read_bytes())
    altered[len(altered) // 2] ^= 0x01
    backup.write_bytes(bytes(altered))

    with pytest.raises(CommandError, match=r"altered or truncated: chunk \d+ fails"):
        run(
            "restore", str(backup), "--key-file", str(key_file),
            "--database-url", databases.database_url(scratch_database),
            "--media-root", str(tmp_path / "restored-media"),
        )  # fmt: skip
    assert databases.is_empty(scratch_database)
    assert not (tmp_path / "restored-media").exists()


def test_a_file_that_differs_from_its_manifest_checksum_is_refused(
    county_money: list[Payment], media: Path, key_file: Path, tmp_path: Path,
    run: Callable[..., str], scratch_database: dict[str, Any],
) -> None:  # fmt: skip
    """Re-encrypted with the right key after a permit was changed inside: every tag holds,
    the manifest's SHA-256 does not."""
    run("backup", "--to", str(tmp_path / "backups"), "--key-file", str(key_file))
    backup = only_backup(tmp_path / "backups")
    key = load_key(key_file)
    with backup.open("rb") as sealed:
        inside = DecryptingReader(sealed, key).read()
    assert inside.count(b"%PDF-1.4 permit") == 100_000
    forged = io.BytesIO()
    writer = EncryptingWriter(forged, key)
    writer.write(inside.replace(b"%PDF-1.4 permit", b"%PDF-1.4 PERMIT", 1))
    writer.close()
    backup.write_bytes(forged.getvalue())

    with pytest.raises(
        CommandError,
        match=r"files/permits/PRM-0001\.pdf does not match its SHA-256 in the manifest",
    ):
        run(
            "restore", str(backup), "--key-file", str(key_file),
            "--database-url", databases.database_url(scratch_database),
            "--media-root", str(tmp_path / "restored-media"),
        )  # fmt: skip
    assert databases.is_empty(scratch_database)
    assert not (tmp_path / "restored-media").exists()


def test_a_truncated_backup_is_refused(
    county_money: list[Payment], media: Path, key_file: Path, tmp_path: Path,
    run: Callable[..., str], scratch_database: dict[str, Any],
) -> None:  # fmt: skip
    run("backup", "--to", str(tmp_path / "backups"), "--key-file", str(key_file))
    backup = only_backup(tmp_path / "backups")
    backup.write_bytes(backup.read_bytes()[: CHUNK + 16 + 57])  # header + one whole chunk

    with pytest.raises(CommandError, match="The backup is truncated: its last chunk is missing"):
        run(
            "restore", str(backup), "--key-file", str(key_file),
            "--database-url", databases.database_url(scratch_database),
        )  # fmt: skip
    assert databases.is_empty(scratch_database)


def test_the_wrong_key_is_refused_with_both_key_ids(
    county_money: list[Payment], media: Path, key_file: Path, tmp_path: Path,
    run: Callable[..., str], scratch_database: dict[str, Any],
) -> None:  # fmt: skip
    run("backup", "--to", str(tmp_path / "backups"), "--key-file", str(key_file))
    other_key = tmp_path / "other.key"
    run("backup", "--generate-key", str(other_key))

    with pytest.raises(
        CommandError,
        match=r"Wrong key: this backup was encrypted with key [0-9a-f]{16}, the key file given is key [0-9a-f]{16}",
    ):
        run(
            "restore", str(tmp_path / "backups"), "--key-file", str(other_key),
            "--database-url", databases.database_url(scratch_database),
        )  # fmt: skip
    assert databases.is_empty(scratch_database)


def test_a_non_empty_database_is_refused_and_keeps_its_rows(
    county_money: list[Payment], media: Path, key_file: Path, tmp_path: Path,
    run: Callable[..., str],
) -> None:  # fmt: skip
    run("backup", "--to", str(tmp_path / "backups"), "--key-file", str(key_file))
    payments = Payment.objects.count()

    # No --database-url: the target is this very database, which holds the county's data.
    with pytest.raises(
        CommandError, match="is not empty; restore into an empty one, or give --force"
    ):
        run("restore", str(tmp_path / "backups"), "--key-file", str(key_file))
    assert Payment.objects.count() == payments == 2


def test_keep_leaves_the_newest_backups(
    county_money: list[Payment], media: Path, key_file: Path, tmp_path: Path,
    run: Callable[..., str],
) -> None:  # fmt: skip
    destination = tmp_path / "backups"
    made = [
        run(
            "backup", "--to", str(destination), "--key-file", str(key_file), "--keep", "2"
        ).splitlines()[-1]
        for _ in range(3)
    ]
    assert sorted(str(path) for path in destination.iterdir()) == made[1:]


def test_the_key_comes_from_the_setting_when_no_key_file_is_given(
    county_money: list[Payment], media: Path, key_file: Path, tmp_path: Path,
    run: Callable[..., str], settings: Any,
) -> None:  # fmt: skip
    settings.BACKUP_KEY_FILE = str(key_file)
    last_line = run("backup", "--to", str(tmp_path / "backups")).splitlines()[-1]
    assert last_line == str(only_backup(tmp_path / "backups"))


def test_without_any_key_the_backup_is_refused(
    county_money: list[Payment], tmp_path: Path, run: Callable[..., str], settings: Any
) -> None:
    settings.BACKUP_KEY_FILE = ""
    with pytest.raises(CommandError, match="Give --key-file, or set BACKUP_KEY_FILE"):
        run("backup", "--to", str(tmp_path / "backups"))
    assert not (tmp_path / "backups").exists()


def test_a_key_file_is_never_overwritten(key_file: Path, run: Callable[..., str]) -> None:
    before = key_file.read_text()
    with pytest.raises(CommandError, match="exists; a key file is never overwritten"):
        run("backup", "--generate-key", str(key_file))
    assert key_file.read_text() == before
    assert key_file.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK])
def test_encryption_round_trips_at_every_chunk_boundary(size: int, tmp_path: Path) -> None:
    key = os.urandom(32)
    plain = os.urandom(size)
    sealed = io.BytesIO()
    writer = EncryptingWriter(sealed, key)
    writer.write(plain[: size // 3])
    writer.write(plain[size // 3 :])
    writer.close()
    sealed.seek(0)
    assert DecryptingReader(sealed, key).read() == plain


@pytest.fixture
def s3_store(monkeypatch: pytest.MonkeyPatch, settings: Any) -> Any:
    """A local S3 (moto's server) on this helper's port, with one bucket."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=8301, verbose=False)
    server.start()
    for variable, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(variable, value)
    settings.BACKUP_S3_ENDPOINT_URL = "http://127.0.0.1:8301"
    client = boto3.client("s3", endpoint_url=settings.BACKUP_S3_ENDPOINT_URL)
    client.create_bucket(Bucket="county-backups")
    yield client
    server.stop()


def test_s3_round_trip_and_retention(
    county_money: list[Payment], media: Path, key_file: Path, tmp_path: Path,
    run: Callable[..., str], scratch_database: dict[str, Any], s3_store: Any,
) -> None:  # fmt: skip
    locations = [
        run(
            "backup", "--to", "s3://county-backups/nyandarua/", "--key-file", str(key_file),
            "--keep", "2",
        ).splitlines()[-1]
        for _ in range(3)
    ]  # fmt: skip
    listed = s3_store.list_objects_v2(Bucket="county-backups")["Contents"]
    assert sorted(f"s3://county-backups/{item['Key']}" for item in listed) == locations[1:]

    output = run(
        "restore", "s3://county-backups/nyandarua", "--key-file", str(key_file),
        "--database-url", databases.database_url(scratch_database),
        "--media-root", str(tmp_path / "restored-media"),
    )  # fmt: skip

    assert f"Restored {locations[-1]}" in output
    assert rows_in(scratch_database, "payments_receipt") == rows_here("payments_receipt")
    assert (tmp_path / "restored-media" / "permits" / "PRM-0001.pdf").read_bytes() == (
        media / "permits" / "PRM-0001.pdf"
    ).read_bytes()


@pytest.mark.django_db
def test_a_backup_inside_an_open_transaction_is_refused_at_once(
    key_file: Path, run: Callable[..., str], tmp_path: Path
) -> None:
    with pytest.raises(CommandError, match="inside an open transaction"):
        run("backup", "--to", str(tmp_path / "backups"), "--key-file", str(key_file))
    assert not (tmp_path / "backups").exists()


def test_retention_only_counts_names_in_ascii_digits(tmp_path: Path) -> None:
    # An operator's file whose name carries Arabic-Indic digits is not a backup: retention
    # never lists it, so it is never deleted.
    (tmp_path / "kaunti-backup-20261208T010000Z-000001.kbk").write_bytes(b"x")
    arabic_indic = "".join(chr(0x0660 + int(digit)) for digit in "20261208")
    lookalike = tmp_path / f"kaunti-backup-{arabic_indic}T010000Z-000001.kbk"
    lookalike.write_bytes(b"x")
    assert store_for(str(tmp_path)).names() == ["kaunti-backup-20261208T010000Z-000001.kbk"]
    assert apply_retention(destination=str(tmp_path), keep=1) == []
    assert lookalike.exists()
