"""scripts/check_layers.py, the CI gate that keeps ORM writes out of views, API and tasks."""

import subprocess
import sys
from pathlib import Path

from django.conf import settings

SCRIPT = Path(settings.BASE_DIR) / "scripts" / "check_layers.py"

PLANTED = """\
from kaunti.payments.models import Bill


def cancel_bill(request, number):
    bill = Bill.objects.get(number=number)
    bill.status = "cancelled"
    bill.save(update_fields=["status"])
    Bill.objects.filter(number=number).update(status="cancelled")
    stale = Bill.objects.filter(status="draft")
    stale.delete()
    context = {"bill": bill}
    context.update(title="Cancelled")
    return context
"""


def check_layers(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  (our own script, on our own files)
        [sys.executable, str(SCRIPT), *map(str, paths)],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_no_view_api_or_task_module_writes_through_the_orm() -> None:
    finished = check_layers()
    assert finished.returncode == 0, finished.stdout


def test_a_planted_write_in_a_view_fails_the_check(tmp_path: Path) -> None:
    view = tmp_path / "views.py"
    view.write_text(PLANTED, encoding="utf-8")

    finished = check_layers(view)

    assert finished.returncode == 1
    flagged = [line.split(":")[1] for line in finished.stdout.splitlines() if ":" in line]
    # The save, the manager's update and the queryset's delete; not the reads, not the dict.
    assert flagged[:3] == ["7", "8", "10"]
    assert "3 write(s) outside their layer or app" in finished.stdout


FOREIGN_WRITES = """\
from kaunti.payments.models import Bill, BillStatus
from kaunti.core.bulk import insert_objects


def raise_penalty(parcel, cursor):
    insert_objects([Bill(number="B1", total=100)])
    Bill.objects.filter(pk=1).update(status=BillStatus("cancelled"))
    cursor.execute("INSERT INTO payments_billline (bill_id) VALUES (1)")
    cursor.execute("UPDATE land_parcel SET ward_id = 1")
    return Bill.objects.filter(pk=1).exists()
"""


def test_an_app_writing_another_apps_tables_fails_the_check(tmp_path: Path) -> None:
    # Checked as land's own module: land may write land_parcel, never payments' tables.
    module = tmp_path / "kaunti" / "land" / "services" / "penalties.py"
    module.parent.mkdir(parents=True)
    module.write_text(FOREIGN_WRITES, encoding="utf-8")

    finished = check_layers(module)

    assert finished.returncode == 1
    flagged = sorted(line.split(":")[1] for line in finished.stdout.splitlines() if ".py:" in line)
    # The row built, the manager's update, the SQL into payments; not land's own SQL, the
    # choice looked up, or the read.
    assert flagged == ["6", "7", "8"]
