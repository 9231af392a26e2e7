"""The audit chain: append an event, and check that no link has been altered."""

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from kaunti.core.bulk import insert_objects
from kaunti.core.models import AuditEvent

GENESIS_HASH = "0" * 64
# Any constant: the key of the PostgreSQL advisory lock that serialises appends.
_APPEND_LOCK_KEY = 0x4B41554E


def _canonical(data: Mapping[str, Any]) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"))


def _link_hash(
    *,
    previous_hash: str,
    occurred_at: datetime,
    actor_id: int | None,
    actor_label: str,
    action: str,
    target_type: str,
    target_id: str,
    data: Mapping[str, Any],
) -> str:
    payload = _canonical(
        {
            "previous": previous_hash,
            "at": occurred_at.astimezone(UTC).isoformat(),
            "actor_id": actor_id,
            "actor": actor_label,
            "action": action,
            "target": [target_type, target_id],
            "data": data,
        }
    )
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class Event:
    """One event to append: who did what to which target, with what data."""

    actor: Any | None
    action: str
    target: models.Model | None = None
    target_type: str = ""
    target_id: str = ""
    data: Mapping[str, Any] | None = None


def record_event(
    *,
    actor: Any | None,
    action: str,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str = "",
    data: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the audit chain, inside the caller's transaction.

    `actor` is a user or None for the system; `target` a model instance (or give
    `target_type`/`target_id` for something that is not a row).
    """
    return record_events([Event(actor, action, target, target_type, target_id, data)])[0]


def record_events(events: Sequence[Event]) -> list[AuditEvent]:
    """Append events to the chain in order, under one lock (the batch form of `record_event`).

    Inside `audited_transaction` they are held back and appended as it ends: the links
    returned then get their ids and hashes at that point."""
    links = [_unchained(event) for event in events]
    held_back = _held_back.get()
    if held_back is not None:
        kept = _KeptUnlessRolledBack()
        transaction.on_commit(kept)
        held_back.append((kept, links))
        return links
    # No savepoint of its own inside the caller's transaction: a link that fails to be
    # written must fail the change it records, and a savepoint is two more round trips.
    with transaction.atomic(savepoint=False):
        return _chain(links)


class _KeptUnlessRolledBack:
    """Registered with `on_commit` (where it does nothing): Django forgets it when the
    savepoint it was registered in rolls back, and so do the links it marks."""

    def __call__(self) -> None:
        return None


# What `audited_transaction` holds back: each batch of links, with its marker.
_HeldBack = list[tuple[_KeptUnlessRolledBack, list[AuditEvent]]]
_held_back: ContextVar[_HeldBack | None] = ContextVar("audit_held_back", default=None)


@contextmanager
def audited_transaction() -> Iterator[None]:
    """A transaction (`transaction.atomic`) that appends the events recorded inside it to
    the audit chain at its end, in the order they were recorded.

    The chain's lock is one for the whole county, and every other lock of the money path
    comes before it (ADR 16): a service that locks bills, credit or collections after it
    has recorded something (or calls one that does) runs in one of these. Nested, the
    outermost appends them all; events recorded in a savepoint that rolled back are not.
    Usable as a decorator: `@audited_transaction()`."""
    if _held_back.get() is not None:
        with transaction.atomic():
            yield
        return
    held_back: _HeldBack = []
    token = _held_back.set(held_back)
    try:
        with transaction.atomic():
            yield
            _chain(_not_rolled_back(held_back))
    finally:
        _held_back.reset(token)


def _not_rolled_back(held_back: _HeldBack) -> list[AuditEvent]:
    # Each entry: the savepoints it was registered in, the callback, and more since 4.2.
    registered = {id(entry[1]) for entry in connection.run_on_commit}
    return [link for kept, links in held_back if id(kept) in registered for link in links]


def _unchained(event: Event) -> AuditEvent:
    """The event's link, all but its place in the chain (time, hashes)."""
    target_type, target_id = event.target_type, event.target_id
    if event.target is not None:
        target_type = event.target._meta.label_lower
        target_id = str(event.target.pk)
    actor_id: int | None = None
    actor_label = "system"
    if event.actor is not None and getattr(event.actor, "is_authenticated", False):
        actor_id = event.actor.pk
        actor_label = event.actor.get_username()
    return AuditEvent(
        actor_id=actor_id,
        actor_label=actor_label,
        action=event.action,
        target_type=target_type,
        target_id=target_id,
        # Store exactly what is hashed: JSON round-tripped (Decimals and dates become strings).
        data=json.loads(_canonical(dict(event.data or {}))),
    )


def _chain(links: list[AuditEvent]) -> list[AuditEvent]:
    """Seal the links after the chain's last one, under its lock, and insert them."""
    if not links:
        return links
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_APPEND_LOCK_KEY])
    last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
    previous_hash = last or GENESIS_HASH
    occurred_at = timezone.now()
    for link in links:
        link.occurred_at, link.previous_hash = occurred_at, previous_hash
        link.hash = previous_hash = _link_hash(
            previous_hash=previous_hash,
            occurred_at=occurred_at,
            actor_id=link.actor_id,
            actor_label=link.actor_label,
            action=link.action,
            target_type=link.target_type,
            target_id=link.target_id,
            data=link.data,
        )
    return insert_objects(links)


@dataclass(frozen=True)
class BrokenLink:
    event_id: int
    reason: str


def find_first_broken_link(*, batch_size: int = 2000) -> BrokenLink | None:
    """Walk the chain from the start; return the first event that does not verify."""
    expected_previous = GENESIS_HASH
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=batch_size):
        if event.previous_hash != expected_previous:
            return BrokenLink(event.pk, "its previous-hash does not match the event before it")
        recomputed = _link_hash(
            previous_hash=event.previous_hash,
            occurred_at=event.occurred_at,
            actor_id=event.actor_id,
            actor_label=event.actor_label,
            action=event.action,
            target_type=event.target_type,
            target_id=event.target_id,
            data=event.data,
        )
        if recomputed != event.hash:
            return BrokenLink(event.pk, "its contents do not match its hash")
        expected_previous = event.hash
    return None
