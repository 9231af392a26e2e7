"""The staff page of SMS that did not get through, and its "send again" button."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from kaunti.accounts.models import User
from kaunti.conftest import sign_in_staff
from kaunti.core.models import AuditEvent, Channel, OutboxMessage, OutboxStatus

pytestmark = pytest.mark.django_db

PAGE = "/staff/sms/undelivered/"


def failed_message() -> OutboxMessage:
    return OutboxMessage.objects.create(
        channel=Channel.SMS,
        recipient="254712000111",
        body="Your receipt RCT2627-000001",
        template="payment_received",
        language="en",
        status=OutboxStatus.FAILED,
        attempts=6,
        last_error="Not delivered: Failed (UserInBlackList)",
        delivery_status="Failed",
        status_reason="UserInBlackList",
        next_attempt_at=timezone.now(),
    )


def test_an_ict_officer_sees_failed_sms_and_sends_one_again(
    client: Client, make_staff: Callable[..., User], django_capture_on_commit_callbacks: Any
) -> None:
    message = failed_message()
    delivered = OutboxMessage.objects.create(
        channel=Channel.SMS,
        recipient="254712000222",
        body="ok",
        template="payment_received",
        language="en",
        status=OutboxStatus.DELIVERED,
        attempts=1,
        next_attempt_at=timezone.now(),
    )
    officer = make_staff(["ict_officer"], department="ict")
    sign_in_staff(client, officer)

    page = client.get(PAGE).content.decode()
    assert "0712 *** 111" in page
    assert "UserInBlackList" in page
    assert "0712 *** 222" not in page  # delivered: not on the list
    assert f"/staff/sms/{message.public_id}/retry/" in page
    assert f"/staff/sms/{delivered.public_id}/retry/" not in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/staff/sms/{message.public_id}/retry/")

    assert (response.status_code, response["Location"]) == (302, PAGE)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 1)  # the file backend took it
    event = AuditEvent.objects.get(action="core.outbox_message_requeued")
    assert event.actor_id == officer.pk


def test_a_message_that_has_not_failed_cannot_be_sent_again(
    client: Client, make_staff: Callable[..., User]
) -> None:
    message = failed_message()
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.DELIVERED)
    sign_in_staff(client, make_staff(["ict_officer"], department="ict"))

    assert client.post(f"/staff/sms/{message.public_id}/retry/").status_code == 404
    message.refresh_from_db()
    assert message.status == OutboxStatus.DELIVERED


@pytest.mark.parametrize("who", ["anonymous", "citizen", "cashier"])
def test_only_staff_allowed_to_view_the_outbox_see_the_page(
    client: Client, make_staff: Callable[..., User], citizen: User, who: str
) -> None:
    message = failed_message()
    if who == "citizen":
        client.force_login(citizen)
    elif who == "cashier":
        sign_in_staff(client, make_staff(["cashier"]))

    page = client.get(PAGE)
    retry = client.post(f"/staff/sms/{message.public_id}/retry/")

    expected = 302 if who == "anonymous" else 403
    assert (page.status_code, retry.status_code) == (expected, expected)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, 6)


def test_the_staff_home_links_the_page_for_those_who_may_see_it(
    client: Client, make_staff: Callable[..., User]
) -> None:
    sign_in_staff(client, make_staff(["ict_officer"], department="ict"))
    assert PAGE in client.get("/staff/").content.decode()
