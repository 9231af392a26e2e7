import io
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command

from kaunti.ledger.services import load_chart_of_accounts
from kaunti.operations import databases
from kaunti.payments.models import Payment
from kaunti.payments.services.price_list import load_price_list
from kaunti.payments.tests.factories import BillFactory, PaymentFactory


@pytest.fixture
def run() -> Callable[..., str]:
    """A management command's output, as the operator reads it."""

    def _run(*args: str) -> str:
        out = io.StringIO()
        call_command(*args, stdout=out, stderr=io.StringIO())
        return out.getvalue()

    return _run


@pytest.fixture
def key_file(tmp_path: Path, run: Callable[..., str]) -> Path:
    path = tmp_path / "backup.key"
    run("backup", "--generate-key", str(path))
    return path


@pytest.fixture
def media(tmp_path: Path, settings: Any) -> Path:
    """Stored files, as a county's would be: a permit and an audit anchor."""
    root = tmp_path / "media"
    (root / "audit-anchors").mkdir(parents=True)
    (root / "audit-anchors" / "2026-12-07.json").write_text('{"head": "abc"}')
    (root / "permits").mkdir()
    (root / "permits" / "PRM-0001.pdf").write_bytes(b"%PDF-1.4 permit " * 100_000)  # 1.6 MB
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": str(root)}},
    }
    return root


@pytest.fixture
def county_money(transactional_db: None, reference_data: None) -> list[Payment]:
    """Two paid bills: ledger entries, numbered receipts, a chain of audit events; committed,
    as a backup reads only what is committed."""
    load_chart_of_accounts()
    load_price_list(county_code=settings.COUNTY_CODE)
    return [
        PaymentFactory.create(bill=BillFactory.create(amount=amount))
        for amount in ("500.00", "1250.00")
    ]


@pytest.fixture
def scratch_database() -> Iterator[dict[str, Any]]:
    """An empty database beside the test database's (same server, or a file); dropped after."""
    current = settings.DATABASES["default"]
    if databases.engine_name(current) == "sqlite":
        target = {**current, "NAME": str(Path(tempfile.mkdtemp()) / "restored.sqlite3")}
    else:
        target = {**current, "NAME": f"{current['NAME']}_restored"}
    databases.drop(target)
    yield target
    databases.drop(target)
