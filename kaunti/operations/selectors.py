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


def _columns(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return {
            column.name for column in connection.introspection.get_table_description(cursor, table)
        }


def get_row_counts() -> dict[str, int]:
    """Rows in every table of Kaunti's own apps (and Django's users and groups).

    Read by table name, of the tables the database has: a backup taken by newer code
    before its migrations (`upgrade`) counts the schema as it is, not as the code
    expects it."""
    existing = set(connection.introspection.table_names())
    counts: dict[str, int] = {}
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed or meta.db_table not in existing:
            continue
        if not (model.__module__.startswith("kaunti.") or meta.app_label == "auth"):
            continue
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(meta.db_table)}")  # noqa: S608
            counts[meta.db_table] = cursor.fetchone()[0]
    return dict(sorted(counts.items()))


def get_audit_head() -> dict[str, Any]:
    """The last sealed link of the audit chain: its id, hash and `seq` (before the chain
    was sealed by a sequencer, ADR 19, the table has no `seq`: its last row by id)."""
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        if "seq" in _columns(table):
            cursor.execute(
                f"SELECT id, hash, seq FROM {table} WHERE seq IS NOT NULL "  # noqa: S608
                "ORDER BY seq DESC LIMIT 1"
            )
        else:
            cursor.execute(f"SELECT id, hash, NULL FROM {table} ORDER BY id DESC LIMIT 1")  # noqa: S608
        row = cursor.fetchone()
    if row is None:
        return {"id": None, "hash": None, "seq": None}
    return {"id": row[0], "hash": row[1], "seq": row[2]}


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
