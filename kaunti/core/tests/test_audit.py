"""The audit chain: events recorded without a lock, sealed in order by the sequencer; edits,
deletions, reorderings, forgeries and a shortened chain are found (ADR 2, ADR 19)."""

import importlib
import json
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from kaunti.core import tasks
from kaunti.core.models import AuditAnchor, AuditEvent
from kaunti.core.services.audit import (
    GENESIS_HASH,
    _link_hash,
    audited_transaction,
    find_first_broken_link,
    record_anchor,
    record_event,
    seal_pending_events,
)

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the append-only trigger exists on PostgreSQL only"
)


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    """Anchors files go to the uploaded-files storage: a directory of the test's own."""
    root = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


def _parcel_event(number: int) -> AuditEvent:
    return record_event(
        actor=None,
        action="land.rates_assessed",
        target_type="parcel",
        target_id=f"NYANDARUA/OL KALOU/{number}",
        data={"amount": f"{number}000.00"},
    )


@pytest.fixture
def three_events() -> list[AuditEvent]:
    """Three events, sealed (as the sequencer does once their transactions commit)."""
    events = [_parcel_event(number) for number in (1, 2, 3)]
    seal_pending_events()
    for event in events:
        event.refresh_from_db()
    return events


@pytest.fixture
def tamperable_audit(db: None) -> None:
    """Let the test edit the chain as an intruder with database access would.

    On PostgreSQL the trigger refuses edits; it is switched off inside the test's
    transaction, so the rollback at the end of the test switches it back on.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_append_only"
            )


def verify_audit(*args: str) -> str:
    out = StringIO()
    call_command("verify_audit", *args, stdout=out, no_color=True)
    return out.getvalue()


def _broken(*args: str) -> str:
    with pytest.raises(CommandError) as error:
        verify_audit(*args)
    return str(error.value)


def _forged_hash(event: AuditEvent, *, seq: int, previous_hash: str, **change: Any) -> str:
    fields = {
        "occurred_at": event.occurred_at,
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "data": event.data,
        **change,
    }
    return _link_hash(seq=seq, previous_hash=previous_hash, **fields)


def test_an_event_is_recorded_unsealed_and_the_sequencer_seals_it() -> None:
    event = _parcel_event(1)

    event.refresh_from_db()
    assert (event.seq, event.previous_hash, event.hash) == (None, None, None)
    assert seal_pending_events() == 1
    event.refresh_from_db()
    assert event.seq == 1
    assert event.previous_hash == GENESIS_HASH == "0" * 64
    assert seal_pending_events() == 0  # nothing left to seal


def test_each_event_carries_the_hash_of_the_one_before(three_events: list[AuditEvent]) -> None:
    stored = list(AuditEvent.objects.order_by("seq"))

    assert [event.pk for event in stored] == [event.pk for event in three_events]
    assert [event.seq for event in stored] == [1, 2, 3]
    assert stored[0].previous_hash == GENESIS_HASH
    assert [event.previous_hash for event in stored[1:]] == [event.hash for event in stored[:-1]]
    assert len({event.hash for event in stored}) == 3
    assert all(len(event.hash or "") == 64 for event in stored)


def test_events_recorded_later_are_sealed_after_the_head(three_events: list[AuditEvent]) -> None:
    fourth = _parcel_event(4)
    seal_pending_events()

    fourth.refresh_from_db()
    assert fourth.seq == 4
    assert fourth.previous_hash == three_events[-1].hash
    assert find_first_broken_link() is None


def test_the_actor_is_recorded_by_id_and_name(citizen: Any) -> None:
    by_citizen = record_event(actor=citizen, action="accounts.profile_updated", target=citizen)
    by_system = record_event(actor=None, action="core.reference_data_loaded")

    assert (by_citizen.actor_id, by_citizen.actor_label) == (citizen.pk, "254712000111")
    assert (by_citizen.target_type, by_citizen.target_id) == ("accounts.user", str(citizen.pk))
    assert (by_system.actor_id, by_system.actor_label) == (None, "system")


def test_verify_audit_seals_what_is_pending_then_passes() -> None:
    for number in (1, 2, 3):
        _parcel_event(number)

    assert verify_audit() == "Audit chain intact: 3 events verified.\n"
    assert not AuditEvent.objects.filter(seq__isnull=True).exists()


def test_verify_audit_without_sealing_leaves_recent_events_pending() -> None:
    _parcel_event(1)

    assert verify_audit("--no-seal") == (
        "Audit chain intact: 0 events verified.\n1 recent events not sealed yet.\n"
    )


def test_verify_audit_passes_on_an_empty_chain() -> None:
    assert verify_audit() == "Audit chain intact: 0 events verified.\n"


@pytest.mark.parametrize(
    "change",
    [
        {"data": {"amount": "1.00"}},
        {"action": "land.rates_waived"},
        {"actor_label": "someone-else"},
        {"target_id": "NYANDARUA/OL KALOU/9"},
        {"occurred_at": datetime(2020, 1, 1, tzinfo=UTC)},
    ],
    ids=["data", "action", "actor", "target", "time"],
)
def test_verify_audit_names_an_edited_event(
    tamperable_audit: None, three_events: list[AuditEvent], change: dict[str, Any]
) -> None:
    middle = three_events[1]
    AuditEvent.objects.filter(pk=middle.pk).update(**change)

    assert _broken() == (
        f"Audit chain broken at event #{middle.pk}: its contents do not match its hash."
    )


def test_verify_audit_finds_a_deleted_event_at_the_next_one(
    tamperable_audit: None, three_events: list[AuditEvent]
) -> None:
    _, middle, last = three_events
    AuditEvent.objects.filter(pk=middle.pk).delete()

    assert _broken() == (
        f"Audit chain broken at event #{last.pk}: its place is 3 where 2 was expected: "
        "an event is missing or out of order."
    )


def test_a_deletion_renumbered_over_is_found_by_the_previous_hash(
    tamperable_audit: None, three_events: list[AuditEvent]
) -> None:
    _, middle, last = three_events
    AuditEvent.objects.filter(pk=middle.pk).delete()
    AuditEvent.objects.filter(pk=last.pk).update(seq=2)

    assert _broken() == (
        f"Audit chain broken at event #{last.pk}: "
        "its previous-hash does not match the event before it."
    )


def test_verify_audit_finds_a_reordered_pair(
    tamperable_audit: None, three_events: list[AuditEvent]
) -> None:
    _, middle, last = three_events
    AuditEvent.objects.filter(pk=middle.pk).update(seq=-1)  # seq is unique: swap via -1
    AuditEvent.objects.filter(pk=last.pk).update(seq=2)
    AuditEvent.objects.filter(pk=middle.pk).update(seq=3)

    assert _broken() == (
        f"Audit chain broken at event #{last.pk}: "
        "its previous-hash does not match the event before it."
    )


def test_an_edit_with_a_recomputed_hash_is_found_at_the_next_event(
    tamperable_audit: None, three_events: list[AuditEvent]
) -> None:
    # An intruder who knows the hashing rule can reseal the edited event, not the next one.
    _, middle, last = three_events
    assert middle.previous_hash is not None
    forged_data = {"amount": "1.00"}
    forged_hash = _forged_hash(middle, seq=2, previous_hash=middle.previous_hash, data=forged_data)
    AuditEvent.objects.filter(pk=middle.pk).update(data=forged_data, hash=forged_hash)

    assert _broken() == (
        f"Audit chain broken at event #{last.pk}: "
        "its previous-hash does not match the event before it."
    )


def test_verify_audit_finds_an_event_forged_into_the_middle(
    tamperable_audit: None, three_events: list[AuditEvent]
) -> None:
    # A well-formed link after the first event: the next one is moved up and made to
    # point at it (no two events may claim the same predecessor), which its hash betrays.
    first, middle, last = three_events
    assert first.hash is not None
    at = timezone.now()
    forged_fields = {
        "occurred_at": at,
        "actor_label": "intruder",
        "action": "land.rates_waived",
        "target_type": "parcel",
        "target_id": "NYANDARUA/OL KALOU/1",
        "data": {},
    }
    forged_hash = _forged_hash(first, seq=2, previous_hash=first.hash, **forged_fields)
    AuditEvent.objects.filter(pk=last.pk).update(seq=4)
    AuditEvent.objects.filter(pk=middle.pk).update(seq=3, previous_hash=forged_hash)
    AuditEvent.objects.create(seq=2, previous_hash=first.hash, hash=forged_hash, **forged_fields)

    assert _broken() == (
        f"Audit chain broken at event #{middle.pk}: its contents do not match its hash."
    )


def test_a_chain_cut_short_is_found_by_its_anchor(
    tamperable_audit: None, three_events: list[AuditEvent]
) -> None:
    anchor = record_anchor()
    assert anchor is not None
    assert (anchor.seq, anchor.hash) == (3, three_events[-1].hash)
    AuditEvent.objects.filter(pk=three_events[-1].pk).delete()  # the newest link, no successor

    assert _broken() == (
        "Audit chain broken at an anchor: an anchor names event 3 but the chain ends at 2: "
        "its newest events were removed."
    )


def test_a_rebuilt_chain_is_found_by_its_anchor(
    tamperable_audit: None, three_events: list[AuditEvent]
) -> None:
    # The intruder rebuilds every link after editing the first: the links verify, the
    # anchor taken before does not.
    record_anchor()
    previous = GENESIS_HASH
    for event in three_events:
        assert event.seq is not None
        data = {"amount": "1.00"} if event.seq == 1 else event.data
        new_hash = _forged_hash(event, seq=event.seq, previous_hash=previous, data=data)
        AuditEvent.objects.filter(pk=event.pk).update(
            data=data, previous_hash=previous, hash=f"x{event.seq}"
        )
        AuditEvent.objects.filter(pk=event.pk).update(hash=new_hash)
        previous = new_hash

    message = _broken()
    assert message.startswith("Audit chain broken at an anchor: the anchor of event 3 (")
    assert message.endswith("is no longer in the chain: it was rebuilt.")


def test_the_anchor_is_kept_in_a_file_of_the_uploaded_files_storage(
    three_events: list[AuditEvent], media: Path
) -> None:
    first = record_anchor()
    _parcel_event(4)
    second = record_anchor()

    assert first is not None
    assert second is not None
    month = f"{second.recorded_at.astimezone(UTC):%Y-%m}"
    lines = (media / "audit-anchors" / f"{month}.jsonl").read_text().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [3, 4]
    assert json.loads(lines[1])["hash"] == second.hash
    assert list(AuditAnchor.objects.values_list("seq", flat=True)) == [3, 4]
    assert verify_audit() == (
        "Audit chain intact: 4 events verified.\n"
        "Anchors of its head still in the chain: 2 recorded, 2 in the stored files.\n"
    )


def test_the_stored_anchors_file_still_finds_a_cut_when_the_anchor_rows_are_deleted(
    tamperable_audit: None, three_events: list[AuditEvent]
) -> None:
    record_anchor()
    AuditAnchor.objects.all().delete()
    AuditEvent.objects.filter(pk=three_events[-1].pk).delete()

    assert "its newest events were removed" in _broken()


def test_an_off_site_copy_of_the_anchors_is_checked_too(
    tamperable_audit: None, three_events: list[AuditEvent], media: Path, tmp_path: Path
) -> None:
    record_anchor()
    copy = tmp_path / "off-site.jsonl"
    for kept in (media / "audit-anchors").iterdir():
        copy.write_text(kept.read_text())
        kept.unlink()  # the intruder removes the anchors on the server
    assert verify_audit("--anchors", str(copy)).endswith(
        "Anchors of its head still in the chain: 1 recorded, 0 in the stored files, "
        "1 from the files given.\n"
    )
    AuditAnchor.objects.all().delete()
    AuditEvent.objects.filter(pk=three_events[-1].pk).delete()

    assert verify_audit() == "Audit chain intact: 2 events verified.\n"
    assert "its newest events were removed" in _broken("--anchors", str(copy))


def test_no_anchor_for_an_empty_chain() -> None:
    assert record_anchor() is None
    assert not AuditAnchor.objects.exists()


def test_verify_audit_says_when_sealing_has_stalled(monkeypatch: pytest.MonkeyPatch) -> None:
    six_minutes_ago = timezone.now() - timedelta(minutes=6)
    with monkeypatch.context() as clock:
        clock.setattr(timezone, "now", lambda: six_minutes_ago)
        event = _parcel_event(1)  # and no sequencer since

    message = _broken("--no-seal")
    assert message.startswith(
        f"Audit sealing has stalled: 1 events waited more than 5 minutes to be sealed "
        f"(the oldest #{event.pk}, recorded "
    )
    assert message.endswith(
        "still waiting. Is Celery beat running kaunti.core.tasks.seal_audit_events?"
    )
    # Sealing them is reported once, and then the chain verifies.
    assert "sealed now" in _broken()
    assert verify_audit() == "Audit chain intact: 1 events verified.\n"


@on_postgresql
def test_the_database_refuses_to_update_a_sealed_event(three_events: list[AuditEvent]) -> None:
    middle = three_events[1]

    with pytest.raises(DatabaseError, match="append-only: UPDATE refused"), transaction.atomic():
        AuditEvent.objects.filter(pk=middle.pk).update(data={"amount": "1.00"})

    middle.refresh_from_db()
    assert middle.data == {"amount": "2000.00"}
    assert verify_audit() == "Audit chain intact: 3 events verified.\n"


@on_postgresql
@pytest.mark.parametrize(
    "change",
    [
        {"data": {"amount": "1.00"}, "seq": 1, "previous_hash": "0" * 64, "hash": "a" * 64},
        {"seq": 1, "previous_hash": "0" * 64},  # half sealed
        {"data": {"amount": "1.00"}},
    ],
    ids=["sealed-with-other-contents", "half-sealed", "contents"],
)
def test_the_database_refuses_every_other_update_of_an_unsealed_event(
    change: dict[str, Any],
) -> None:
    event = _parcel_event(1)

    with pytest.raises(DatabaseError, match="append-only: UPDATE refused"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(**change)

    event.refresh_from_db()
    assert (event.seq, event.data) == (None, {"amount": "1000.00"})


@on_postgresql
def test_the_database_refuses_to_reseal_a_sealed_event(three_events: list[AuditEvent]) -> None:
    with pytest.raises(DatabaseError, match="append-only: UPDATE refused"), transaction.atomic():
        AuditEvent.objects.filter(pk=three_events[0].pk).update(seq=7, hash="b" * 64)


@on_postgresql
def test_the_database_refuses_to_delete_an_audit_event(three_events: list[AuditEvent]) -> None:
    with pytest.raises(DatabaseError, match="append-only: DELETE refused"), transaction.atomic():
        AuditEvent.objects.filter(pk=three_events[1].pk).delete()
    unsealed = _parcel_event(4)
    with pytest.raises(DatabaseError, match="append-only: DELETE refused"), transaction.atomic():
        AuditEvent.objects.filter(pk=unsealed.pk).delete()

    assert AuditEvent.objects.count() == 4
    assert verify_audit() == "Audit chain intact: 4 events verified.\n"


def test_decimals_and_dates_are_stored_exactly_as_they_were_hashed() -> None:
    event = record_event(
        actor=None,
        action="payments.payment_recorded",
        data={
            "amount": Decimal("1500.50"),
            "due_on": date(2026, 3, 31),
            "paid_at": datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
        },
    )
    seal_pending_events()

    event.refresh_from_db()
    assert event.data == {
        "amount": "1500.50",
        "due_on": "2026-03-31",
        "paid_at": "2026-03-01T09:30:00Z",
    }
    assert event.seq == 1
    assert find_first_broken_link() is None


@pytest.mark.parametrize("field", ["previous_hash", "hash", "seq"])
def test_a_forked_chain_is_refused(three_events: list[AuditEvent], field: str) -> None:
    first = three_events[0]
    claimed = {"seq": 99, "previous_hash": "e" * 64, "hash": "f" * 64}
    claimed[field] = getattr(first, field)

    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.create(
            occurred_at=timezone.now(),
            actor_label="intruder",
            action="land.rates_waived",
            **claimed,
        )

    assert list(AuditEvent.objects.order_by("id")) == three_events
    assert verify_audit() == "Audit chain intact: 3 events verified.\n"


def _event(action: str) -> AuditEvent:
    return record_event(actor=None, action=action, target_type="test", target_id="1")


def test_an_audited_transaction_records_its_events_as_they_happen_in_order() -> None:
    with audited_transaction():
        first = _event("test.first")
        with audited_transaction():
            _event("test.second")
        assert first.pk is not None
        _event("test.third")
    seal_pending_events()

    assert [event.action for event in AuditEvent.objects.order_by("seq")] == [
        "test.first",
        "test.second",
        "test.third",
    ]
    assert find_first_broken_link() is None


class ChangeFailed(Exception):
    """The change an event records failed: its transaction (or savepoint) rolls back."""


def _record_then_fail(action: str) -> None:
    _event(action)
    raise ChangeFailed(action)


def test_events_of_a_savepoint_rolled_back_are_not_kept() -> None:
    with audited_transaction():
        _event("test.kept")
        with pytest.raises(ChangeFailed), transaction.atomic():
            _record_then_fail("test.undone")
    seal_pending_events()

    assert list(AuditEvent.objects.values_list("action", "seq")) == [("test.kept", 1)]


def test_an_audited_transaction_that_fails_records_nothing() -> None:
    with pytest.raises(ChangeFailed), audited_transaction():
        _record_then_fail("test.undone")

    assert not AuditEvent.objects.exists()
    assert _event("test.after").pk is not None


def test_the_sequencer_runs_once_after_a_transaction_that_recorded_events_commits(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        _event("test.first")
        _event("test.second")

    assert len(callbacks) == 1
    assert list(AuditEvent.objects.order_by("seq").values_list("action", "seq")) == [
        ("test.first", 1),
        ("test.second", 2),
    ]


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_writers_do_not_wait_for_each_other_and_both_are_sealed() -> None:
    """Writer A records an event and keeps its transaction open; writer B records one and
    commits meanwhile, with a lock timeout that would fail it had it waited for A."""
    a_recorded, b_done = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    def writer_a() -> None:
        try:
            with transaction.atomic():
                outcome["a"] = _event("test.a")
                a_recorded.set()
                b_done.wait(timeout=10)
        finally:
            connection.close()

    def writer_b() -> None:
        try:
            a_recorded.wait(timeout=10)
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '200ms'")
                    cursor.execute("SET LOCAL statement_timeout = '2s'")
                outcome["b"] = _event("test.b")
        except OperationalError as error:  # pragma: no cover - the failure this test catches
            outcome["b_error"] = error
        finally:
            b_done.set()
            connection.close()

    threads = [threading.Thread(target=writer_a), threading.Thread(target=writer_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert "b_error" not in outcome
    a, b = outcome["a"], outcome["b"]
    seal_pending_events()  # whatever the commits' own tries left
    a.refresh_from_db()
    b.refresh_from_db()
    # B committed first and was sealed first, though A was inserted first.
    assert a.pk < b.pk
    assert (b.seq, a.seq) == (1, 2)
    assert a.previous_hash == b.hash
    assert verify_audit() == "Audit chain intact: 2 events verified.\n"


_migration = importlib.import_module(
    "kaunti.core.migrations.0008_audit_chain_sealed_by_a_sequencer"
)


class _SchemaEditor:
    """What the migration's function uses of a schema editor, inside the test's transaction."""

    connection = connection

    def execute(self, sql: str, params: Any = ()) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def _old_chain(count: int) -> list[AuditEvent]:
    """Events linked by the rule before ADR 19: no place, hash of the one before."""
    previous, events = GENESIS_HASH, []
    for number in range(1, count + 1):
        event = AuditEvent(
            occurred_at=timezone.now(),
            actor_label="system",
            action="land.rates_assessed",
            target_type="parcel",
            target_id=str(number),
            data={"amount": f"{number}000.00"},
            previous_hash=previous,
        )
        event.hash = previous = _migration._old_hash(event)
        event.save()
        events.append(event)
    return events


def test_the_migration_reseals_an_intact_old_chain_in_id_order() -> None:
    old = _old_chain(3)

    _migration.reseal(django_apps, _SchemaEditor())

    resealed = list(AuditEvent.objects.order_by("seq"))
    assert [(event.pk, event.seq) for event in resealed] == [
        (e.pk, n) for n, e in enumerate(old, 1)
    ]
    assert find_first_broken_link() is None
    fourth = _parcel_event(4)
    seal_pending_events()
    fourth.refresh_from_db()
    assert (fourth.seq, fourth.previous_hash) == (4, resealed[-1].hash)
    assert verify_audit() == "Audit chain intact: 4 events verified.\n"


def test_the_migration_refuses_a_broken_old_chain(tamperable_audit: None) -> None:
    _, middle, _ = _old_chain(3)
    AuditEvent.objects.filter(pk=middle.pk).update(data={"amount": "1.00"})

    with pytest.raises(RuntimeError, match=f"broken at event #{middle.pk}: not re-sealed"):
        _migration.reseal(django_apps, _SchemaEditor())


def test_celery_beat_seals_every_few_seconds_and_anchors_hourly(settings: Any) -> None:
    schedule = {
        entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert schedule["kaunti.core.tasks.seal_audit_events"] <= 10
    assert schedule["kaunti.core.tasks.anchor_audit_chain"] == 3600
    _parcel_event(1)
    _parcel_event(2)

    assert tasks.seal_audit_events() == 2
    assert tasks.anchor_audit_chain() == 2
    assert list(AuditAnchor.objects.values_list("seq", flat=True)) == [2]
