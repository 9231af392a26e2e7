"""The audit chain: record an event, seal it into the chain, and check that no link has
been altered (ADR 19).

A writer inserts its events unsealed, inside its own transaction, with no lock and nothing
read first: writes across the county do not wait for each other. The sequencer
(`seal_pending_events`) gives the committed unsealed events, in id order, their place in
the chain (`seq`), the hash of the event before, and their own hash; it is the only code
that takes the chain's lock. It runs just after a transaction that recorded something
commits (unless another sequencer is busy), every few seconds from Celery beat, and before
`manage.py verify_audit`. Every hour the chain's head is anchored (`record_anchor`).
"""

import hashlib
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from kaunti.core.bulk import insert_objects
from kaunti.core.models import AuditAnchor, AuditEvent

logger = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
# Any constant: the key of the PostgreSQL advisory lock only the sequencer takes. (Not the
# key code before ADR 19 took to append, so that the two are never confused.)
_SEQUENCER_LOCK_KEY = 0x4B415553
SEAL_BATCH = 5000  # events sealed per sequencer transaction
# An unsealed event older than this means the sequencer has stopped (no beat, no worker).
STALLED_AFTER = timedelta(minutes=5)
ANCHOR_DIRECTORY = "audit-anchors"


def _canonical(data: Mapping[str, Any]) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"))


def _link_hash(
    *,
    seq: int,
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
            "seq": seq,
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


def _event_hash(event: AuditEvent, *, seq: int, previous_hash: str) -> str:
    return _link_hash(
        seq=seq,
        previous_hash=previous_hash,
        occurred_at=event.occurred_at,
        actor_id=event.actor_id,
        actor_label=event.actor_label,
        action=event.action,
        target_type=event.target_type,
        target_id=event.target_id,
        data=event.data,
    )


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
    """Record one event, unsealed, inside the caller's transaction: it joins the chain
    when the sequencer seals it, after the commit (its `seq` and `hash` are empty until then).

    `actor` is a user or None for the system; `target` a model instance (or give
    `target_type`/`target_id` for something that is not a row).
    """
    return record_events([Event(actor, action, target, target_type, target_id, data)])[0]


def record_events(events: Sequence[Event]) -> list[AuditEvent]:
    """Insert events, unsealed, inside the caller's transaction (the batch form of
    `record_event`): no lock, nothing read. The sequencer seals them once it commits."""
    links = [_unsealed(event) for event in events]
    if not links:
        return links
    occurred_at = timezone.now()
    for link in links:
        link.occurred_at = occurred_at
    # No savepoint of its own inside the caller's transaction: an event that fails to be
    # written must fail the change it records, and a savepoint is two more round trips.
    with transaction.atomic(savepoint=False):
        insert_objects(links)
        _seal_after_commit()
    return links


def _seal_after_commit() -> None:
    """Once per transaction: seal what is pending just after it commits. Robust: a failure
    there is logged, never the caller's (the periodic sequencer seals it later).

    Only with AUDIT_SEAL_ON_COMMIT (on where no broker runs the periodic sequencer: tests,
    one process). With a broker the sequencer's task seals every few seconds, and a
    request does no sealing work of its own."""
    if not settings.AUDIT_SEAL_ON_COMMIT:
        return
    if not any(entry[1] is _seal_opportunistically for entry in connection.run_on_commit):
        transaction.on_commit(_seal_opportunistically, robust=True)


def _seal_opportunistically() -> None:
    seal_pending_events(wait=False)


@contextmanager
def audited_transaction() -> Iterator[None]:
    """A transaction (`transaction.atomic`) whose events are recorded as they happen.

    Before ADR 19 it held the events back and appended them at its end, to take the
    chain's county-wide lock last (ADR 16). Writers take no audit lock now, so it is a plain
    atomic block, kept for its callers. Usable as a decorator: `@audited_transaction()`."""
    with transaction.atomic():
        yield


def _unsealed(event: Event) -> AuditEvent:
    """The event's row, all but its time and its place in the chain."""
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


def seal_pending_events(*, wait: bool = True, batch_size: int = SEAL_BATCH) -> int:
    """The sequencer: seal the committed unsealed events, in id order, after the chain's
    head; return how many. Each batch is a transaction of its own under the sequencer's
    lock, which nothing else takes (ADR 19). With `wait=False` it gives up at once when
    another sequencer holds the lock (that one, or the periodic task, seals them)."""
    sealed = 0
    while True:
        with transaction.atomic():
            if not _sequencer_lock(wait=wait):
                return sealed
            count = _seal_batch(batch_size)
        sealed += count
        if count < batch_size:
            return sealed


def _sequencer_lock(*, wait: bool) -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite: one writer at a time, whole database
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SEQUENCER_LOCK_KEY])
            return True
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_SEQUENCER_LOCK_KEY])
        row = cursor.fetchone()
        return bool(row and row[0])


def _head() -> tuple[int, str] | None:
    """The chain's last sealed event: its place and hash."""
    head = (
        AuditEvent.objects.filter(seq__isnull=False)
        .order_by("-seq")
        .values_list("seq", "hash")
        .first()
    )
    if head is None or head[0] is None or head[1] is None:
        return None
    return head[0], head[1]


def _seal_batch(batch_size: int) -> int:
    seq, previous_hash = _head() or (0, GENESIS_HASH)
    pending = list(AuditEvent.objects.filter(seq__isnull=True).order_by("id")[:batch_size])
    for event in pending:
        seq += 1
        event.seq, event.previous_hash = seq, previous_hash
        event.hash = previous_hash = _event_hash(event, seq=seq, previous_hash=previous_hash)
    if not pending:
        return 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE core_auditevent AS e SET seq = v.seq, previous_hash = v.previous_hash, "
                "hash = v.hash FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[]) "
                "AS v(id, seq, previous_hash, hash) WHERE e.id = v.id AND e.seq IS NULL",
                [
                    [event.pk for event in pending],
                    [event.seq for event in pending],
                    [event.previous_hash for event in pending],
                    [event.hash for event in pending],
                ],
            )
            updated = cursor.rowcount
    else:
        updated = AuditEvent.objects.bulk_update(
            pending, ["seq", "previous_hash", "hash"], batch_size=300
        )
    if updated != len(pending):
        # Only the sequencer seals, under its lock: another sealed some of these meanwhile.
        raise RuntimeError(f"Sealed {updated} of {len(pending)} audit events: rolled back.")
    return len(pending)


def record_anchor() -> AuditAnchor | None:
    """Anchor the chain's head (after sealing what is pending): a row here, and a line
    appended to this month's file in the uploaded-files storage, which backups carry off
    the server (`audit-anchors/YYYY-MM.jsonl`). None while the chain is empty."""
    seal_pending_events()
    head = _head()
    if head is None:
        return None
    anchor = AuditAnchor.objects.create(seq=head[0], hash=head[1], recorded_at=timezone.now())
    line = _canonical(
        {"seq": anchor.seq, "hash": anchor.hash, "at": anchor.recorded_at.astimezone(UTC)}
    )
    name = f"{ANCHOR_DIRECTORY}/{anchor.recorded_at.astimezone(UTC):%Y-%m}.jsonl"
    # Storage has no append: read, add the line, write back (one beat task at a time).
    before = b""
    if default_storage.exists(name):
        with default_storage.open(name, "rb") as existing:
            before = existing.read()
        default_storage.delete(name)
    default_storage.save(name, ContentFile(before + line.encode() + b"\n"))
    return anchor


def read_anchor_lines(content: str) -> list[tuple[int, str]]:
    """The (seq, hash) of each line of an anchors file; lines that are not anchors skipped."""
    anchors = []
    for line in content.splitlines():
        try:
            item = json.loads(line)
            anchors.append((int(item["seq"]), str(item["hash"])))
        except (ValueError, KeyError, TypeError):
            continue
    return anchors


def stored_anchors() -> list[tuple[int, str]]:
    """Every anchor in the uploaded-files storage's `audit-anchors/` files."""
    try:
        _, files = default_storage.listdir(ANCHOR_DIRECTORY)
    except FileNotFoundError:
        return []
    anchors: list[tuple[int, str]] = []
    for name in sorted(files):
        if name.endswith(".jsonl"):
            with default_storage.open(f"{ANCHOR_DIRECTORY}/{name}", "rb") as file:
                anchors += read_anchor_lines(file.read().decode(errors="replace"))
    return anchors


@dataclass(frozen=True)
class BrokenLink:
    """Where the chain does not verify: the event (None for an anchor), and why."""

    event_id: int | None
    reason: str


def find_first_broken_link(
    *, batch_size: int = 2000, anchors: Sequence[tuple[int, str]] = ()
) -> BrokenLink | None:
    """Walk the sealed events by `seq` from the start; return the first that does not
    verify (its place, its predecessor's hash, or its contents), else the first anchor
    (recorded here, in the stored files, or `anchors` given, e.g. an off-site copy) whose
    event is no longer in the chain as it was. Unsealed events are not links yet."""
    expected_seq, expected_previous = 1, GENESIS_HASH
    sealed = AuditEvent.objects.filter(seq__isnull=False).order_by("seq")
    for event in sealed.iterator(chunk_size=batch_size):
        assert event.seq is not None
        assert event.previous_hash is not None
        if event.seq != expected_seq:
            return BrokenLink(
                event.pk,
                f"its place is {event.seq} where {expected_seq} was expected: "
                f"an event is missing or out of order",
            )
        if event.previous_hash != expected_previous:
            return BrokenLink(event.pk, "its previous-hash does not match the event before it")
        recomputed = _event_hash(event, seq=event.seq, previous_hash=event.previous_hash)
        if recomputed != event.hash:
            return BrokenLink(event.pk, "its contents do not match its hash")
        expected_seq, expected_previous = event.seq + 1, event.hash
    head = expected_seq - 1
    recorded = list(AuditAnchor.objects.order_by("id").values_list("seq", "hash"))
    for seq, hash_ in [*recorded, *stored_anchors(), *anchors]:
        if seq > head:
            return BrokenLink(
                None,
                f"an anchor names event {seq} but the chain ends at {head}: "
                "its newest events were removed",
            )
        if not AuditEvent.objects.filter(seq=seq, hash=hash_).exists():
            return BrokenLink(
                None,
                f"the anchor of event {seq} ({hash_[:12]}…) is no longer in the chain: "
                "it was rebuilt",
            )
    return None


def find_stalled_events(*, older_than: timedelta = STALLED_AFTER) -> tuple[int, AuditEvent | None]:
    """Events still unsealed that were recorded more than `older_than` ago (the sequencer
    has stopped): how many, and the oldest."""
    stalled = AuditEvent.objects.filter(
        seq__isnull=True, occurred_at__lt=timezone.now() - older_than
    ).order_by("id")
    return stalled.count(), stalled.first()
