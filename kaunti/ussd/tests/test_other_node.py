"""A session continued on another app node: its state lives in the shared cache (Redis),
not in a process. Needs REDIS_URL (the PostgreSQL CI run has it); skipped elsewhere,
and a failure in CI (`CI=true`), where a skip would hide a broken set-up."""

import os
import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test import Client

from kaunti.payments.models import Bill, StkRequest
from kaunti.ussd.engine import SESSION_SECONDS
from kaunti.ussd.tests.conftest import Phone
from kaunti.ussd.tests.factories import PhoneLanguageFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def redis_url() -> str:
    if not settings.REDIS_URL:
        # CI runs the suite twice: on PostgreSQL with Redis, where this must run, and on
        # SQLite without Redis (the embedded default), where nothing is shared between nodes.
        if os.environ.get("CI") == "true" and connection.vendor == "postgresql":
            pytest.fail("CI must run this test with REDIS_URL set")
        pytest.skip("needs REDIS_URL: the cache is shared between nodes only through Redis")
    return str(settings.REDIS_URL)


def on_another_node(step: Callable[[], str]) -> str:
    """Run a step in another thread, with its own database and cache connections."""
    answers: list[str] = []

    def run() -> None:
        try:
            answers.append(step())
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert len(answers) == 1
    return answers[0]


def test_the_next_step_is_answered_by_another_node(
    redis_url: str, make_bill: Callable[..., Bill]
) -> None:
    bill = make_bill(Decimal("800.00"))
    PhoneLanguageFactory.create()
    node_a, node_b = Client(), Client()
    phone = Phone(node_a)

    phone.dial()
    assert on_another_node(lambda: phone.press("1", client=node_b)) == (
        "CON Enter the bill number\n0. Back"
    )
    assert phone.press(bill.number).startswith(f"CON Bill {bill.number}\n")
    assert on_another_node(lambda: phone.press("1", client=node_b)).startswith(
        "END You will get an M-Pesa prompt for KES 800.00"
    )
    assert StkRequest.objects.get().bill_id == bill.pk

    # The state is in Redis, with the session's lifetime.
    store = redis.Redis.from_url(redis_url)
    keys = list(store.scan_iter(match="*ussd:session:*"))
    assert len(keys) == 1
    ttl = int(store.ttl(keys[0]))  # type: ignore[arg-type]
    assert 0 < ttl <= SESSION_SECONDS
