"""/metrics: M-Pesa callbacks stored and not yet recorded (how many, how old), those left
for an officer, and STK prompts unanswered."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from kaunti.core.tests.scrape import scrape, value
from kaunti.payments.models import Bill, CallbackStatus, InboundCallback, StkRequest, StkStatus

pytestmark = pytest.mark.django_db


def _callback(kind: str, status: str, minutes_ago: int) -> InboundCallback:
    callback = InboundCallback.objects.create(kind=kind, body="{}", status=status)
    received = timezone.now() - timedelta(minutes=minutes_ago)
    InboundCallback.objects.filter(pk=callback.pk).update(received_at=received)
    return callback


def test_callbacks_awaiting_recording_by_kind_with_the_oldest_age(
    client: Client, settings: Any
) -> None:
    samples = scrape(client, settings)
    for kind in ("mpesa_c2b_confirmation", "mpesa_stk"):
        assert value(samples, "kaunti_payments_callbacks_awaiting", kind=kind) == 0
        assert (
            value(samples, "kaunti_payments_callbacks_oldest_awaiting_age_seconds", kind=kind) == 0
        )

    _callback("mpesa_c2b_confirmation", CallbackStatus.RECEIVED, minutes_ago=30)
    _callback("mpesa_c2b_confirmation", CallbackStatus.RECEIVED, minutes_ago=2)
    _callback("mpesa_stk", CallbackStatus.WAITING, minutes_ago=10)
    # Recorded, duplicate or left for review: not awaiting.
    _callback("mpesa_c2b_confirmation", CallbackStatus.PROCESSED, minutes_ago=90)
    _callback("mpesa_stk", CallbackStatus.DUPLICATE, minutes_ago=90)
    _callback("mpesa_stk", CallbackStatus.REVIEW, minutes_ago=90)
    _callback("mpesa_c2b_confirmation", CallbackStatus.MALFORMED, minutes_ago=90)

    samples = scrape(client, settings)
    c2b = {"kind": "mpesa_c2b_confirmation"}
    stk = {"kind": "mpesa_stk"}
    assert value(samples, "kaunti_payments_callbacks_awaiting", **c2b) == 2
    assert value(samples, "kaunti_payments_callbacks_awaiting", **stk) == 1
    oldest_c2b = value(samples, "kaunti_payments_callbacks_oldest_awaiting_age_seconds", **c2b)
    assert 30 * 60 <= oldest_c2b < 31 * 60
    oldest_stk = value(samples, "kaunti_payments_callbacks_oldest_awaiting_age_seconds", **stk)
    assert 10 * 60 <= oldest_stk < 11 * 60
    assert value(samples, "kaunti_payments_callbacks_needing_review") == 2


def test_stk_prompts_unanswered_with_the_oldest_age(
    client: Client, settings: Any, make_bill: Callable[..., Bill]
) -> None:
    bill = make_bill()
    waiting = StkRequest.objects.create(
        bill=bill, phone="254712000111", amount=300, status=StkStatus.PENDING
    )
    StkRequest.objects.filter(pk=waiting.pk).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    StkRequest.objects.create(bill=bill, phone="254712000111", amount=300)  # being sent
    for status in (StkStatus.PAID, StkStatus.FAILED, StkStatus.ERROR, StkStatus.REVIEW):
        StkRequest.objects.create(bill=bill, phone="254712000111", amount=300, status=status)

    samples = scrape(client, settings)
    assert value(samples, "kaunti_payments_stk_unanswered") == 2
    assert 5 * 60 <= value(samples, "kaunti_payments_stk_oldest_unanswered_age_seconds") < 6 * 60
