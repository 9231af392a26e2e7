"""The audit chain: each event seals the one before it; edits and deletions are found."""

from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from kaunti.core.models import AuditEvent
from kaunti.core.services.audit import (
    GENESIS_HASH,
    _link_hash,
    audited_transaction,
    find_first_broken_link,
    record_event,
)

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the append-only trigger exists on PostgreSQL only"
)


@pytest.fixture
def three_events() -> list[AuditEvent]:
    return [
        record_event(
            actor=None,
            action="land.rates_assessed",
            target_type="parcel",
            target_id=f"NYANDARUA/OL KALOU/{number}",
            data={"amount": f"{number}000.00"},
        )
        for number in (1, 2, 3)
    ]


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


def verify_audit() -> str:
    out = StringIO()
    call_command("verify_audit", stdout=out, no_color=True)
    return out.getvalue()


def test_each_event_carries_the_hash_of_the_one_before(three_events: list[AuditEvent]) -> None:
    stored = list(AuditEvent.objects.order_by("id"))

    assert [event.pk for event in stored] == [event.pk for event in three_events]
    assert stored[0].previous_hash == GENESIS_HASH == "0" * 64
    assert [event.previous_hash for event in stored[1:]] == [event.hash for event in stored[:-1]]
    assert len({event.hash for event in stored}) == 3
    assert all(len(event.hash) == 64 and int(event.hash, 16) >= 0 for event in stored)


def test_the_actor_is_recorded_by_id_and_name(citizen: Any) -> None:
    by_citizen = record_event(actor=citizen, action="accounts.profile_updated", target=citizen)
    by_system = record_event(actor=None, action="core.reference_data_loaded")

    assert (by_citizen.actor_id, by_citizen.actor_label) == (citizen.pk, "254712000111")
    assert (by_citizen.target_type, by_citizen.target_id) == ("accounts.user", str(citizen.pk))
    assert (by_system.actor_id, by_system.actor_label) == (None, "system")


def test_verify_audit_passes_on_an_intact_chain(three_events: list[AuditEvent]) -> None:
    assert verify_audit() == "Audit chain intact: 3 events verified.\n"


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

    with pytest.raises(CommandError) as error:
        verify_audit()

    assert str(error.value) == (
        f"Audit chain broken at event #{middle.pk}: its contents do not match its hash."
    )


def test_verify_audit_finds_a_deleted_event_at_the_next_one(
    tamperable_audit: None, three_events: list[AuditEvent]
) -> None:
    _, middle, last = three_events
    AuditEvent.objects.filter(pk=middle.pk).delete()

    with pytest.raises(CommandError) as error:
        verify_audit()

    assert str(error.value) == (
        f"Audit chain broken at event #{last.pk}: "
        "its previous-hash does not match the event before it."
    )


def test_an_edit_with_a_recomputed_hash_is_found_at_the_next_event(
    tamperable_audit: None, three_events: list[AuditEvent]
) -> None:
    # An intruder who knows the hashing rule can reseal the edited event, not the next one.
    _, middle, last = three_events
    forged_data = {"amount": "1.00"}
    forged_hash = _link_hash(
        previous_hash=middle.previous_hash,
        occurred_at=middle.occurred_at,
        actor_id=middle.actor_id,
        actor_label=middle.actor_label,
        action=middle.action,
        target_type=middle.target_type,
        target_id=middle.target_id,
        data=forged_data,
    )
    AuditEvent.objects.filter(pk=middle.pk).update(data=forged_data, hash=forged_hash)

    with pytest.raises(CommandError) as error:
        verify_audit()

    assert str(error.value) == (
        f"Audit chain broken at event #{last.pk}: "
        "its previous-hash does not match the event before it."
    )


@on_postgresql
def test_the_database_refuses_to_update_an_audit_event(three_events: list[AuditEvent]) -> None:
    middle = three_events[1]

    with pytest.raises(DatabaseError, match="append-only: UPDATE refused"), transaction.atomic():
        AuditEvent.objects.filter(pk=middle.pk).update(data={"amount": "1.00"})

    middle.refresh_from_db()
    assert middle.data == {"amount": "2000.00"}
    assert verify_audit() == "Audit chain intact: 3 events verified.\n"


@on_postgresql
def test_the_database_refuses_to_delete_an_audit_event(three_events: list[AuditEvent]) -> None:
    with pytest.raises(DatabaseError, match="append-only: DELETE refused"), transaction.atomic():
        AuditEvent.objects.filter(pk=three_events[1].pk).delete()

    assert AuditEvent.objects.count() == 3
    assert verify_audit() == "Audit chain intact: 3 events verified.\n"


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

    event.refresh_from_db()
    assert event.data == {
        "amount": "1500.50",
        "due_on": "2026-03-31",
        "paid_at": "2026-03-01T09:30:00Z",
    }
    assert find_first_broken_link() is None


def test_a_forked_chain_is_refused(three_events: list[AuditEvent]) -> None:
    first = three_events[0]

    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.create(
            occurred_at=timezone.now(),
            actor_label="intruder",
            action="land.rates_waived",
            previous_hash=first.previous_hash,
            hash="f" * 64,
        )

    assert list(AuditEvent.objects.order_by("id")) == three_events
    assert verify_audit() == "Audit chain intact: 3 events verified.\n"


def _event(action: str) -> AuditEvent:
    return record_event(actor=None, action=action, target_type="test", target_id="1")


def test_an_audited_transaction_appends_its_events_at_its_end_in_order() -> None:
    with audited_transaction():
        first = _event("test.first")
        with audited_transaction():  # nested: the outermost appends
            _event("test.second")
        assert first.pk is None
        assert not AuditEvent.objects.exists()
        _event("test.third")

    assert [event.action for event in AuditEvent.objects.order_by("id")] == [
        "test.first",
        "test.second",
        "test.third",
    ]
    assert first.pk is not None
    assert find_first_broken_link() is None


class ChangeFailed(Exception):
    """The change an event records failed: its transaction (or savepoint) rolls back."""


def _record_then_fail(action: str) -> None:
    _event(action)
    raise ChangeFailed(action)


def test_events_of_a_savepoint_rolled_back_inside_an_audited_transaction_are_not_kept() -> None:
    with audited_transaction():
        _event("test.kept")
        with pytest.raises(ChangeFailed), transaction.atomic():
            _record_then_fail("test.undone")

    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["test.kept"]


def test_an_audited_transaction_that_fails_appends_nothing() -> None:
    with pytest.raises(ChangeFailed), audited_transaction():
        _record_then_fail("test.undone")

    assert not AuditEvent.objects.exists()
    assert _event("test.after").pk is not None  # outside, events are appended at once
