"""The lock order of the money path (ADR 16) is watched on every test: the watch itself works."""

from decimal import Decimal

import pytest
from django.db import connection, transaction

from kaunti.conftest import LockOrderWatch
from kaunti.core.services.audit import audited_transaction, record_event, seal_pending_events
from kaunti.payments.locks import LOCK_ORDER, lock_taken_by
from kaunti.payments.models import PayerCredit
from kaunti.payments.services.bills import lock_payer_credit

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="advisory and row locks: PostgreSQL"
)


def _held_credit(payer_key: str) -> None:
    PayerCredit.objects.create(payer_key=payer_key, amount=Decimal("100.00"))


def _watch() -> LockOrderWatch:
    return LockOrderWatch(base_depth=len(connection.atomic_blocks))


@pytest.mark.django_db
def test_the_audit_sequencer_inside_a_money_transaction_is_named(
    lock_order: LockOrderWatch,
) -> None:
    _held_credit("254712000001")
    with transaction.atomic():
        lock_payer_credit(["254712000001"])
        seal_pending_events()
    assert lock_order.violations == [
        "'audit sequencer' taken in one transaction with 'payer credit'"
    ]
    lock_order.forget()  # made on purpose: the suite's own watch lets this test pass


@pytest.mark.django_db
def test_a_lock_taken_after_the_audit_sequencer_is_named(lock_order: LockOrderWatch) -> None:
    _held_credit("254712000001")
    with transaction.atomic():
        seal_pending_events()
        lock_payer_credit(["254712000001"])
    assert lock_order.violations == [
        "'payer credit' taken after 'audit sequencer' (held: audit sequencer)"
    ]
    lock_order.forget()


@pytest.mark.django_db
def test_recording_an_event_takes_no_lock() -> None:
    _held_credit("254712000001")
    watch = _watch()
    with connection.execute_wrapper(watch), transaction.atomic():
        record_event(actor=None, action="test.first", target_type="test", target_id="1")
        lock_payer_credit(["254712000001"])
        record_event(actor=None, action="test.second", target_type="test", target_id="1")
    assert watch.violations == []
    assert watch.held == ["payer credit"]


@pytest.mark.django_db
def test_an_audited_transaction_takes_no_audit_lock() -> None:
    _held_credit("254712000001")
    watch = _watch()
    with connection.execute_wrapper(watch), audited_transaction():
        record_event(actor=None, action="test.first", target_type="test", target_id="1")
        lock_payer_credit(["254712000001"])
    assert watch.violations == []
    assert watch.held == ["payer credit"]


@pytest.mark.django_db
def test_each_transaction_is_watched_on_its_own() -> None:
    _held_credit("254712000001")
    watch = _watch()
    with connection.execute_wrapper(watch):
        record_event(actor=None, action="test.first", target_type="test", target_id="1")
        seal_pending_events()
        with transaction.atomic():
            lock_payer_credit(["254712000001"])
    assert watch.violations == []


def test_every_lock_is_named_by_the_statement_that_takes_it() -> None:
    statements = {
        "billing run": "SELECT pg_advisory_xact_lock(%s, %s)",
        "till session": 'SELECT "payments_tillsession"."id" FROM "payments_tillsession" WHERE '
        '"payments_tillsession"."id" = %s LIMIT 21 FOR UPDATE',
        "receipt": 'SELECT * FROM "payments_receipt" WHERE 1 FOR UPDATE',
        "stk request": 'SELECT * FROM "payments_stkrequest" WHERE 1 FOR UPDATE',
        "bill": 'SELECT "payments_bill"."id" FROM "payments_bill" WHERE 1 ORDER BY '
        '"payments_bill"."number" ASC FOR UPDATE',
        "application": 'SELECT "eservices_application"."id" FROM "eservices_application" '
        'INNER JOIN "eservices_service" ON (1) FOR UPDATE OF "eservices_application"',
        "payer credit": "SELECT count(pg_advisory_xact_lock(%s, hashtext(key))) FROM unnest(%s)",
        "collections": "INSERT INTO payments_dailycollection (day) VALUES (%s) ON CONFLICT (day)",
        "receipt sequence": 'SELECT * FROM "payments_receiptsequence" WHERE 1 FOR UPDATE',
        "audit sequencer": "SELECT pg_try_advisory_xact_lock(%s)",
    }
    assert list(statements) == [lock.name for lock in LOCK_ORDER]
    for name, sql in statements.items():
        taken = lock_taken_by(sql)
        assert taken is not None, sql
        assert taken.name == name, sql
    assert lock_taken_by('SELECT * FROM "payments_bill" WHERE 1') is None
    assert (
        lock_taken_by('SELECT * FROM "payments_bill" INNER JOIN (SELECT 1 FROM x FOR UPDATE)')
        is None
    )
