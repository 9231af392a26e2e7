"""The import rules of ADR 17 are import-linter contracts that fail CI when broken."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from django.conf import settings

BASE = Path(settings.BASE_DIR)
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(source_root: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports with the project's contracts over the `kaunti` package in `source_root`."""
    return subprocess.run(  # noqa: S603  (our own tool, on a copy of our own code)
        [str(LINT_IMPORTS), "--config", str(BASE / "pyproject.toml"), "--no-cache"],
        cwd=source_root,
        env={**os.environ, "PYTHONPATH": str(source_root)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def copy_of_the_code(tmp_path: Path) -> Path:
    shutil.copytree(
        BASE / "kaunti",
        tmp_path / "kaunti",
        ignore=shutil.ignore_patterns("static", "locale", "templates", "data", "__pycache__"),
    )
    return tmp_path


def test_the_tree_keeps_every_contract(tmp_path: Path) -> None:
    finished = lint_imports(copy_of_the_code(tmp_path))
    assert finished.returncode == 0, finished.stdout


def test_importing_another_apps_views_or_a_task_from_a_service_breaks_a_contract(
    tmp_path: Path,
) -> None:
    root = copy_of_the_code(tmp_path)
    (root / "kaunti" / "land" / "tests" / "test_planted.py").write_text(
        "from kaunti.payments.views import staff  # noqa: F401\n", encoding="utf-8"
    )
    (root / "kaunti" / "land" / "services" / "planted.py").write_text(
        "from kaunti.land import tasks  # noqa: F401\n", encoding="utf-8"
    )

    finished = lint_imports(root)

    assert finished.returncode == 1
    assert "kaunti.land.tests.test_planted -> kaunti.payments.views.staff" in finished.stdout
    assert "kaunti.land.services.planted -> kaunti.land.tasks" in finished.stdout
