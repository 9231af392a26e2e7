"""What a backup records about the data it holds, and a restore is checked against.

Read in the backup's own snapshot (PostgreSQL) or under its write lock (SQLite), so the
figures are those of the dump, not of a moment later.
"""

from typing import Any

from django.apps import apps
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from kaunti.core.models import AuditEvent
from kaunti.ledger.selectors import get_trial_balance
from kaunti.payments.models import ReceiptSequence


def get_migration_heads() -> dict[str, list[str]]:
    """Per app, the applied migrations no later applied migration of the app depends on."""
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    applied = set(loader.applied_migrations or {})
    heads: dict[str, list[str]] = {}
    for app_label, name in sorted(applied):
        if (app_label, name) not in loader.graph.nodes:
            continue  # applied once, since removed from the code
        children = loader.graph.node_map[(app_label, name)].children
        if not any(child.key in applied and child.key[0] == app_label for child in children):
            heads.setdefault(app_label, []).append(name)
    return heads


def get_row_counts() -> dict[str, int]:
    """Rows in every table of Kaunti's own apps (and Django's users and groups)."""
    counts: dict[str, int] = {}
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        if not (model.__module__.startswith("kaunti.") or meta.app_label == "auth"):
            continue
        counts[meta.db_table] = model._base_manager.count()
    return dict(sorted(counts.items()))


def get_audit_head() -> dict[str, Any]:
    """The last link of the audit chain: its id and hash (and `seq` where the table has it)."""
    last = AuditEvent.objects.order_by("-id").first()
    if last is None:
        return {"id": None, "hash": None, "seq": None}
    seq = getattr(last, "seq", None)
    return {"id": last.pk, "hash": last.hash, "seq": seq}


def get_trial_balance_totals() -> dict[str, str]:
    """Total debits and credits over the whole ledger, as exact decimal strings."""
    trial_balance = get_trial_balance()
    return {
        "total_debit": str(trial_balance.total_debit),
        "total_credit": str(trial_balance.total_credit),
        "difference": str(trial_balance.total_debit - trial_balance.total_credit),
    }


def get_receipt_sequences() -> dict[str, int]:
    """The last receipt number issued in each financial year."""
    return {
        str(year): number
        for year, number in ReceiptSequence.objects.order_by("financial_year").values_list(
            "financial_year", "last_number"
        )
    }


def collect_facts() -> dict[str, Any]:
    """Everything a restore must reproduce exactly, read from the default database."""
    return {
        "migrations": get_migration_heads(),
        "row_counts": get_row_counts(),
        "audit_head": get_audit_head(),
        "trial_balance": get_trial_balance_totals(),
        "receipt_sequences": get_receipt_sequences(),
    }
