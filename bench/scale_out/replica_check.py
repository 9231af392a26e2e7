"""Reports served from a streaming read replica (ADR 24): the Django half of
scripts/check-replica.sh, which makes the replica cluster.

    replica_check.py seed     a fresh database on the primary: the county's reference data,
                              a revenue officer, a bill and its payment
    replica_check.py verify   another payment on the primary; once the replica has replayed
                              it, a gunicorn node with DATABASE_REPLICA_URL serves the
                              revenue report, which must show both payments, and the
                              replica's statement log must hold the report's reads
"""

import json
import os
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import django
import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.scale_out.stack import SERVER, Stack, recreate_database  # noqa: E402

DATABASE = os.environ.get("REPLICA_CHECK_DATABASE", "kaunti_replica_check")
REPLICA = os.environ.get("REPLICA_CHECK_SERVER", "postgres://postgres@127.0.0.1:8532")
PORT = int(os.environ.get("REPLICA_CHECK_PORT", "8520"))
TOKEN_FILE = Path(tempfile.gettempdir()) / "kaunti-replica-check-token.json"
ENV = {
    "DJANGO_SETTINGS_MODULE": "kaunti.settings",
    "DATABASE_URL": f"{SERVER}/{DATABASE}",
    "DEBUG": "0",
    "SECRET_KEY": "replica-check-only-secret-key-" + "c" * 40,
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "0",
    "MPESA_CALLBACK_TOKEN": "replica-check-token-" + "e" * 20,
    "AFRICASTALKING_CALLBACK_TOKEN": "replica-check-at-token-" + "e" * 20,
    "SMS_BACKEND": "console",
}


def pay(reference: str) -> None:
    from django.utils import timezone

    from kaunti.payments.models import Bill, Channel
    from kaunti.payments.services.recording import IncomingPayment, record_payments

    bill = Bill.objects.order_by("pk").first()
    assert bill is not None
    record_payments(
        [
            IncomingPayment(
                provider="mpesa-c2b",
                external_ref=reference,
                channel=Channel.MPESA_PAYBILL,
                amount=Decimal("250.00"),
                paid_at=timezone.now(),
                bill_number=bill.number,
            )
        ]
    )


def seed() -> None:
    from django.core.management import call_command

    from kaunti.accounts.services import create_staff_user, issue_api_token
    from kaunti.core.models import Department
    from kaunti.core.reference_data import load_reference_data
    from kaunti.ledger.services import load_chart_of_accounts
    from kaunti.payments.services.bills import LineInput, Payer, create_bill
    from kaunti.payments.services.price_list import load_price_list

    recreate_database(DATABASE)
    call_command("migrate", verbosity=0, interactive=False)
    load_reference_data(county_code="018")
    load_chart_of_accounts()
    load_price_list(county_code="018")
    officer = create_staff_user(
        username="replica-officer",
        full_name="Replica Officer",
        password="replica check password " + "x" * 12,
        department=Department.objects.get(code="revenue"),
        roles=["revenue_officer"],
        created_by=None,
    )
    create_bill(
        payer=Payer(name="Replica Payer", phone="", id_number="32000000"),
        lines=[LineInput("market-fee", quantity=Decimal(100))],
        department=Department.objects.get(code="trade"),
        due_on=date.today() + timedelta(days=30),
        description="Market fees",
        actor=None,
    )
    pay("TRC0000001")
    TOKEN_FILE.write_text(json.dumps({"token": issue_api_token(user=officer.user)}))
    print(f"seeded {DATABASE} on the primary: a bill and one payment of KES 250")


def verify(replica_log: Path) -> int:
    pay("TRC0000002")  # after the base backup: reaches the replica only by streaming
    with psycopg.connect(f"{SERVER}/{DATABASE}", autocommit=True) as primary:
        row = primary.execute("SELECT pg_current_wal_lsn()").fetchone()
        assert row
        lsn = row[0]
    with psycopg.connect(f"{REPLICA}/{DATABASE}", autocommit=True) as replica:
        for _ in range(100):
            row = replica.execute(
                "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn]
            ).fetchone()
            if row and row[1]:
                break
            time.sleep(0.1)
        else:
            print("FAILED: the replica did not replay the primary's last payment in 10 s")
            return 1
        assert row, "the replica answered nothing"
        assert row[0], "the replica is not in recovery: not a standby"
    print(f"the replica (a hot standby, in recovery) has replayed the primary up to {lsn}")
    token = json.loads(TOKEN_FILE.read_text())["token"]
    mark = replica_log.stat().st_size
    workdir = Path(tempfile.mkdtemp(prefix="kaunti-replica-check-"))
    stack = Stack(env={**ENV, "DATABASE_REPLICA_URL": f"{REPLICA}/{DATABASE}"}, workdir=workdir)
    try:
        stack.start_node("node", PORT, workers=1)
        stack.wait_healthy(["node"])
        today = date.today().isoformat()
        response = httpx.get(
            f"http://127.0.0.1:{PORT}/api/v1/reports/revenue/",
            params={"from": today, "to": today, "group_by": "stream"},
            headers={"Authorization": f"Token {token}"},
            timeout=30,
        )
    finally:
        stack.stop_all()
        shutil.rmtree(workdir, ignore_errors=True)
        TOKEN_FILE.unlink(missing_ok=True)
    if response.status_code != 200:
        print(f"FAILED: the report answered {response.status_code}: {response.text[:300]}")
        return 1
    report = response.json()
    total = Decimal(str(report.get("total_amount", "0")))
    print(f"revenue report for today, served with the replica: total KES {total}")
    logged = replica_log.read_bytes()[mark:].decode(errors="replace")
    reads = [line for line in logged.splitlines() if "collection" in line and "SELECT" in line]
    print(f"the replica's statement log holds {len(reads)} report read(s), e.g.:")
    for line in reads[:2]:
        print("   " + line.strip()[:160])
    if total != Decimal("500.00"):
        print("FAILED: the report should show both payments (KES 500.00)")
        return 1
    if not reads:
        print("FAILED: the report's reads did not reach the replica")
        return 1
    print("OK: the revenue report is read from the streaming replica, up to date")
    return 0


def main() -> int:
    os.environ.update(ENV)
    for name in ("KAUNTI_TESTING", "REDIS_URL", "CELERY_BROKER_URL", "DATABASE_REPLICA_URL"):
        os.environ.pop(name, None)
    django.setup()
    if sys.argv[1:2] == ["seed"]:
        seed()
        return 0
    if sys.argv[1:2] == ["verify"] and len(sys.argv) == 3:
        return verify(Path(sys.argv[2]))
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
