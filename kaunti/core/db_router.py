"""Where reads for reports go: a streaming replica when one is configured (ADR 24).

Kaunti writes and reads on the primary (`default`). A county may add a read replica
(`DATABASE_REPLICA_URL`, a PostgreSQL hot standby streaming from the primary); only the
report selectors read from it, and they say so themselves:
`Model.objects.using(replica_alias())`. No global routing of reads: a replica lags the
primary by a little, and a page that has just written (a payment recorded, a bill raised)
must read what it wrote. Reports tolerate a second's lag; a receipt does not.

`PrimaryRouter` keeps migrations and writes off the replica: a hot standby refuses writes,
and its schema comes from the primary by streaming, never from `migrate`.
"""

from typing import Any

from django.conf import settings

REPLICA = "replica"


def replica_alias() -> str:
    """The database alias report reads use: the replica when configured, else the primary."""
    return REPLICA if REPLICA in settings.DATABASES else "default"


class PrimaryRouter:
    """Everything on the primary unless a query names the replica; nothing migrated there."""

    def db_for_read(self, model: type, **hints: Any) -> str | None:
        return None  # the primary, unless `.using()` names another

    def db_for_write(self, model: type, **hints: Any) -> str:
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the replica holds the primary's rows: same objects

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db != REPLICA
