"""Load the county's price list of revenue streams (from its Finance Act) as data."""

import csv
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from kaunti.core.models import Department
from kaunti.ledger import services as ledger
from kaunti.ledger.models import AccountType
from kaunti.payments.models import RevenueStream

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


@transaction.atomic
def load_price_list(*, county_code: str, path: Path | None = None) -> int:
    """Create or update each stream and its revenue account (idempotent)."""
    path = path or DATA_DIR / f"revenue_streams_{county_code}.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]
    for row in rows:
        account = ledger.ensure_account(
            code=row["account_code"],
            name=row["name"],
            name_sw=row["name_sw"],
            type=AccountType.REVENUE,
            gl_item_code=row["gl_item_code"],
        )
        RevenueStream.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "name_sw": row["name_sw"],
                "account": account,
                "department": Department.objects.get(code=row["department"]),
                "unit": row["unit"],
                "unit_sw": row.get("unit_sw", ""),
                "unit_price": Decimal(row["unit_price"]) if row["unit_price"] else None,
                "annual_target": Decimal(row["annual_target"] or 0),
                "is_miscellaneous": row["is_miscellaneous"].lower() == "true",
            },
        )
    return len(rows)
