"""`insert_objects`: many new rows of one model at once (COPY on PostgreSQL)."""

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, transaction

from kaunti.core.bulk import COPY_FROM, insert_objects, update_objects
from kaunti.core.models import AuditEvent, IssuedDocument, OutboxMessage

pytestmark = pytest.mark.django_db


# A few rows go in with one INSERT, a batch with COPY (on PostgreSQL): both must keep the
# same contract.
BATCH_SIZES = [1, 3, COPY_FROM, COPY_FROM * 3]


@pytest.mark.parametrize("count", BATCH_SIZES)
def test_inserted_objects_get_their_ids_and_read_back_as_written(count: int) -> None:
    messages = insert_objects(
        OutboxMessage(
            channel="sms",
            recipient=f"+25471200000{n}",
            body=f"Receipt R-{n}: KES 1,500.00 paid. Asante!",
            template="payments/receipt",
            language="sw",
            next_attempt_at=datetime(2026, 11, 27, 9, 30, tzinfo=UTC),
        )
        for n in range(count)
    )

    assert all(message.pk is not None for message in messages)
    assert len({message.pk for message in messages}) == count
    assert all(not message._state.adding for message in messages)
    stored = {m.pk: m for m in OutboxMessage.objects.all()}
    for message in messages:
        row = stored[message.pk]
        assert (row.recipient, row.body, row.public_id) == (
            message.recipient,
            message.body,
            message.public_id,
        )
        assert row.status == "pending"
        assert row.created_at is not None


def test_later_inserts_of_the_same_table_do_not_collide() -> None:
    first = insert_objects([_document("R-1"), _document("R-2")])
    later = IssuedDocument.objects.create(**_fields("R-3"))
    more = insert_objects([_document("R-4")])

    ids = [first[0].pk, first[1].pk, later.pk, more[0].pk]
    assert len(set(ids)) == 4
    assert IssuedDocument.objects.count() == 4


def test_json_values_are_stored_as_json() -> None:
    (event,) = insert_objects(
        [
            AuditEvent(
                occurred_at=datetime(2026, 11, 27, 9, 30, tzinfo=UTC),
                actor_label="system",
                action="payments.payment_recorded",
                data={"amount": "1500.00", "bill": "ABCD2345", "suspense": False},
                previous_hash="0" * 64,
                hash="1" * 64,
            )
        ]
    )

    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.data == {"amount": "1500.00", "bill": "ABCD2345", "suspense": False}
    assert AuditEvent.objects.filter(data__bill="ABCD2345").count() == 1


@pytest.mark.parametrize("count", BATCH_SIZES)
def test_a_unique_violation_is_an_integrity_error_and_writes_nothing(count: int) -> None:
    insert_objects([_document("R-9")])
    duplicate_code = IssuedDocument.objects.get().verification_code
    batch = [_document(f"R-{10 + n}") for n in range(count - 1)]

    with pytest.raises(IntegrityError), transaction.atomic():
        insert_objects([*batch, _document("R-99", code=duplicate_code)])

    assert list(IssuedDocument.objects.values_list("number", flat=True)) == ["R-9"]


def test_nothing_to_insert_is_nothing_written() -> None:
    assert insert_objects([]) == []
    assert OutboxMessage.objects.count() == 0


def _fields(number: str, code: str | None = None) -> dict[str, object]:
    return {
        "verification_code": code or f"V{number.replace('-', '')}XYZ",
        "kind": "receipt",
        "number": number,
        "holder_name": "Wanjiru Njoroge",
        "summary": "KES 1,500.00",
        "issued_at": datetime(2026, 11, 27, 9, 30, tzinfo=UTC),
        "source_type": "receipt",
        "source_ref": number,
    }


def _document(number: str, code: str | None = None) -> IssuedDocument:
    return IssuedDocument(**_fields(number, code))


def test_updated_objects_write_only_the_named_columns() -> None:
    messages = insert_objects(
        OutboxMessage(
            channel="sms",
            recipient=f"+25471200001{n}",
            body=f"Message {n}",
            template="payments/receipt",
            language="en",
            next_attempt_at=datetime(2026, 11, 27, 9, 30, tzinfo=UTC),
        )
        for n in range(3)
    )
    for attempt, message in enumerate(messages[:2], start=1):
        message.status = "failed"
        message.attempts = attempt
        message.body = "not written"

    update_objects(messages[:2], ["status", "attempts"])

    stored = {m.pk: m for m in OutboxMessage.objects.all()}
    assert [(stored[m.pk].status, stored[m.pk].attempts) for m in messages] == [
        ("failed", 1),
        ("failed", 2),
        ("pending", 0),
    ]
    assert [stored[m.pk].body for m in messages] == ["Message 0", "Message 1", "Message 2"]


def test_updating_a_field_that_is_not_a_column_is_refused() -> None:
    (message,) = insert_objects([_document("R-20")])

    with pytest.raises(ValueError, match="not columns"):
        update_objects([message], ["no_such_field"])
