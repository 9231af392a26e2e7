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
    assert "3 ORM write(s) outside services" in finished.stdout
