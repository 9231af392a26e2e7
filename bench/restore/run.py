"""Backup, restore and verification of a county-sized PostgreSQL database.

    .venv/bin/python bench/restore/run.py --parcels 100000 --payments 1000000 --save-prepared
    .venv/bin/python bench/restore/run.py --parcels 100000 --payments 1000000 --from-prepared
    .venv/bin/python bench/restore/run.py                  # 1,000,000 parcels, 10,000,000 payments

See README.md in this folder for what it does and the results.
"""

import argparse
import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import django
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
DATABASE = os.environ.get("BENCH_DATABASE", "kaunti_restore_bench")
SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
TEMPLATE = f"{DATABASE}_prepared"  # --save-prepared / --from-prepared: skip preparing again
GOAL_SECONDS = 15 * 60  # restored and verified within a quarter of an hour
WORK = Path(os.environ.get("BENCH_WORK", tempfile.gettempdir())) / "kaunti-restore-bench"
MEDIA = WORK / "media"

os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "kaunti.settings",
        "DATABASE_URL": f"{SERVER}/{DATABASE}",
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-" + "r" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SMS_BACKEND": "console",
        "MPESA_CALLBACK_TOKEN": "bench-restore-token-" + "t" * 20,
        "AFRICASTALKING_CALLBACK_TOKEN": "bench-restore-at-token-" + "t" * 20,
        "SECURE_SSL_REDIRECT": "0",
        "MEDIA_ROOT": str(MEDIA),
    }
)
sys.path.insert(0, str(ROOT))
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from kaunti.core.reference_data import load_reference_data  # noqa: E402
from kaunti.core.services.audit import Event, record_events  # noqa: E402
from kaunti.ledger.services import load_chart_of_accounts  # noqa: E402
from kaunti.payments.services.price_list import load_price_list  # noqa: E402

# One statement per table, set-based: parcels and their owners; a bill per parcel, booked
# (receivable debited, revenue credited); payments spread over the bills, each with its
# journal entry (M-Pesa cash debited, receivable credited), allocation and receipt.
GENERATE = """
SET session_replication_role = replica;  -- bulk load: no row-by-row triggers or FK checks
INSERT INTO land_parcel (id, public_id, number, number_key, area_hectares, land_use, zone,
    tenure, improvements, is_rateable, created_at, updated_at, ward_id)
SELECT i, ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid,
    'NYANDARUA/OL KALOU/' || i, 'NYANDARUA/OLKALOU/' || i, 1.5,
    (ARRAY['agricultural','agricultural','residential','commercial'])[1 + i % 4], '',
    'freehold', '', true, now(), now(), (SELECT array_agg(id) FROM core_ward)[1 + i % 25]
FROM generate_series(1, %(parcels)s) i;
INSERT INTO land_owner (id, public_id, kind, name, national_id, kra_pin, phone, created_at)
SELECT i, ('00000000-0000-4000-9000-' || lpad(i::text, 12, '0'))::uuid, 'individual',
    'Owner ' || i, (10000000 + i)::text, '', '', now()
FROM generate_series(1, %(parcels)s) i;
INSERT INTO land_ownership (id, share_numerator, share_denominator, started_on, owner_id, parcel_id)
SELECT i, 1, 1, '2020-01-01', i, i FROM generate_series(1, %(parcels)s) i;

INSERT INTO ledger_journalentry (id, posted_on, posted_at, memo, source_type, source_ref)
SELECT i, '2026-07-01', now(), 'Land rates 2026/27', 'bill', 'B' || i
FROM generate_series(1, %(parcels)s) i;
INSERT INTO ledger_journalline (id, debit, credit, channel, account_id, entry_id)
SELECT 2 * i - 1, 100.00 * %(per_bill)s, 0, '', (SELECT id FROM ledger_account WHERE code = '1200'), i
FROM generate_series(1, %(parcels)s) i
UNION ALL
SELECT 2 * i, 0, 100.00 * %(per_bill)s, '', (SELECT id FROM ledger_account WHERE code = '4110'), i
FROM generate_series(1, %(parcels)s) i;
INSERT INTO payments_bill (id, number, payer_name, payer_phone, payer_id_number, payer_kra_pin,
    payer_key, description, due_on, status, total, paid, source_type, source_ref, created_at,
    department_id, description_sw)
SELECT i, 'B' || lpad(i::text, 8, '0'), 'Owner ' || i, '', (10000000 + i)::text, '',
    'id:' || (10000000 + i), 'Land rates 2026/27', '2026-09-30', 'paid',
    100.00 * %(per_bill)s, 100.00 * %(per_bill)s, 'land.parcel', i::text, now(),
    (SELECT id FROM core_department WHERE code = 'lands'), 'Kodi ya ardhi 2026/27'
FROM generate_series(1, %(parcels)s) i;

INSERT INTO ledger_journalentry (id, posted_on, posted_at, memo, source_type, source_ref)
SELECT %(parcels)s + i, '2026-08-01'::date + (i %% 300), now(), 'M-Pesa payment', 'payment', 'P' || i
FROM generate_series(1, %(payments)s) i;
INSERT INTO ledger_journalline (id, debit, credit, channel, account_id, entry_id)
SELECT 2 * (%(parcels)s + i) - 1, 100.00, 0, 'mpesa', (SELECT id FROM ledger_account WHERE code = '1120'), %(parcels)s + i
FROM generate_series(1, %(payments)s) i
UNION ALL
SELECT 2 * (%(parcels)s + i), 0, 100.00, 'mpesa', (SELECT id FROM ledger_account WHERE code = '1200'), %(parcels)s + i
FROM generate_series(1, %(payments)s) i;
INSERT INTO payments_payment (id, public_id, provider, external_ref, channel, amount, paid_at,
    account_reference, mpesa_receipt, payer_phone, payer_name, is_in_suspense, raw,
    created_at, bill_id, journal_entry_id)
SELECT i, ('00000000-0000-4000-a000-' || lpad(i::text, 12, '0'))::uuid, 'mpesa-c2b',
    'SKJ' || lpad(i::text, 8, '0'), 'mpesa_paybill', 100.00,
    '2026-08-01'::timestamptz + make_interval(mins => i %% 400000), 'B' || lpad((1 + i %% %(parcels)s)::text, 8, '0'),
    'SKJ' || lpad(i::text, 8, '0'), '2547' || lpad((i %% 100000000)::text, 8, '0'), 'PAYER ' || i,
    false, jsonb_build_object('TransID', 'SKJ' || lpad(i::text, 8, '0'), 'TransAmount', '100.00'),
    now(), 1 + i %% %(parcels)s, %(parcels)s + i
FROM generate_series(1, %(payments)s) i;
INSERT INTO payments_allocation (id, amount, from_credit, created_at, bill_id, payment_id)
SELECT i, 100.00, false, now(), 1 + i %% %(parcels)s, i FROM generate_series(1, %(payments)s) i;
INSERT INTO payments_receipt (id, number, financial_year, sequence, verification_code, issued_at, payment_id)
SELECT i, 'RCT2627-' || lpad(i::text, 8, '0'), 2026, i, upper(substr(md5(i::text), 1, 16)),
    '2026-08-01'::timestamptz + make_interval(mins => i %% 400000), i
FROM generate_series(1, %(payments)s) i;
INSERT INTO payments_receiptsequence (financial_year, last_number) VALUES (2026, %(payments)s)
ON CONFLICT (financial_year) DO UPDATE SET last_number = EXCLUDED.last_number;
SET session_replication_role = origin;
"""
SEQUENCED = [
    "land_parcel", "land_owner", "land_ownership", "ledger_journalentry", "ledger_journalline",
    "payments_bill", "payments_payment", "payments_allocation", "payments_receipt",
]  # fmt: skip


def admin() -> psycopg.Connection:
    return psycopg.connect(f"{SERVER}/postgres", autocommit=True)


def recreate_database(*, name: str, template: str | None = None) -> None:
    connection.close()
    with admin() as server:
        server.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        server.execute(create)


def prepare(parcels: int, payments: int, files: int, audit_events: int) -> None:
    """Migrate, load the county's data, then write the rows set-based (untimed)."""
    call_command("migrate", verbosity=0, interactive=False)
    load_reference_data(county_code="018")
    load_chart_of_accounts()
    load_price_list(county_code="018")
    per_bill = -(-payments // parcels)  # bills large enough for their payments
    with psycopg.connect(f"{SERVER}/{DATABASE}") as bench:
        started = time.monotonic()
        bench.execute(
            GENERATE.replace("%(parcels)s", str(parcels))
            .replace("%(payments)s", str(payments))
            .replace("%(per_bill)s", str(per_bill))
            .replace("%%", "%")
        )
        for table in SEQUENCED:
            bench.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608
            )
        bench.commit()
        print(f"  rows written in {time.monotonic() - started:.0f} s", flush=True)
    started = time.monotonic()
    write_audit_chain(audit_events)
    print(
        f"  {audit_events:,} audit events chained in {time.monotonic() - started:.0f} s", flush=True
    )
    with psycopg.connect(f"{SERVER}/{DATABASE}", autocommit=True) as bench:
        bench.execute("VACUUM ANALYZE")
    media = MEDIA
    shutil.rmtree(media, ignore_errors=True)
    (media / "audit-anchors").mkdir(parents=True)
    (media / "permits").mkdir()
    for i in range(files):
        (media / "permits" / f"PRM-{i:06d}.pdf").write_bytes(os.urandom(50_000))
    (media / "audit-anchors" / "2026-12-07.json").write_text('{"head": "bench"}')


def write_audit_chain(payments: int, batch: int = 20_000) -> None:
    """One event per payment, as `record_payments` writes: through the audit service, so
    every link is hashed as in production and `verify_audit` has the whole chain to walk."""
    for start in range(1, payments + 1, batch):
        record_events(
            [
                Event(
                    actor=None,
                    action="payments.payment_recorded",
                    target_type="payments.payment",
                    target_id=str(i),
                    data={
                        "provider": "mpesa-c2b",
                        "reference": f"SKJ{i:08d}",
                        "amount": "100.00",
                        "receipt": f"RCT2627-{i:08d}",
                        "suspense": False,
                    },
                )
                for i in range(start, min(start + batch, payments + 1))
            ]
        )


def database_size(name: str) -> str:
    with admin() as server:
        row = server.execute("SELECT pg_size_pretty(pg_database_size(%s))", [name]).fetchone()
    return str(row[0]) if row else "?"


def command(*args: str) -> tuple[str, float]:
    out = io.StringIO()
    started = time.monotonic()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue(), time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parcels", type=int, default=1_000_000)
    parser.add_argument("--payments", type=int, default=10_000_000)
    parser.add_argument("--files", type=int, default=1000, help="Stored files of 50 kB.")
    parser.add_argument(
        "--audit-events", type=int, help="Links in the audit chain (default: one per payment)."
    )
    parser.add_argument("--jobs", type=int, default=2, help="pg_dump and pg_restore workers.")
    parser.add_argument("--save-prepared", action="store_true", help=f"Keep a copy as {TEMPLATE}.")
    parser.add_argument("--from-prepared", action="store_true", help=f"Start from {TEMPLATE}.")
    options = parser.parse_args()

    print(f"Restore bench: {options.parcels:,} parcels, {options.payments:,} payments", flush=True)
    WORK.mkdir(parents=True, exist_ok=True)
    if options.from_prepared:
        recreate_database(name=DATABASE, template=TEMPLATE)
        if not MEDIA.is_dir():
            sys.exit("The prepared stored files are gone; prepare again.")
    else:
        started = time.monotonic()
        recreate_database(name=DATABASE)
        prepare(
            options.parcels,
            options.payments,
            options.files,
            options.payments if options.audit_events is None else options.audit_events,
        )
        print(f"  prepared in {time.monotonic() - started:.0f} s (untimed)", flush=True)
        if options.save_prepared:
            recreate_database(name=TEMPLATE, template=DATABASE)
            print(f"  saved as {TEMPLATE} (for --from-prepared)", flush=True)
    print(f"  database size: {database_size(DATABASE)}", flush=True)

    key = WORK / "bench.key"
    key.unlink(missing_ok=True)
    command("backup", "--generate-key", str(key))
    backups = WORK / "backups"
    shutil.rmtree(backups, ignore_errors=True)
    output, backup_seconds = command(
        "backup", "--to", str(backups), "--key-file", str(key), "--jobs", str(options.jobs)
    )
    location = Path(output.splitlines()[-1])
    print(f"Backup: {backup_seconds:.0f} s, {location.stat().st_size / 2**20:.0f} MiB encrypted")
    print("\n".join(output.splitlines()[:-1]), flush=True)

    output, drill_seconds = command(
        "restore_drill", str(location), "--key-file", str(key), "--jobs", str(options.jobs)
    )
    print(output.rstrip())
    verdict = "within" if drill_seconds <= GOAL_SECONDS else "OVER"
    print(
        f"Restored and verified in {drill_seconds:.0f} s: {verdict} the goal of "
        f"{GOAL_SECONDS // 60} minutes.",
        flush=True,
    )
    shutil.rmtree(backups, ignore_errors=True)


if __name__ == "__main__":
    main()
