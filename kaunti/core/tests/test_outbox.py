"""The notification outbox: written with the change, sent after commit, retried with backoff."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from time import sleep
from typing import Any

import pytest
from django.core import mail
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from kaunti.core.models import Channel, OutboxMessage, OutboxStatus
from kaunti.core.services.notifications import queue_email, queue_sms
from kaunti.core.services.outbox import retry_delay, send_outbox_message
from kaunti.core.tasks import send_notification, send_pending_notifications
from kaunti.simulators.africastalking import AfricasTalkingSimulator

pytestmark = pytest.mark.django_db

PHONE = "0712 000 111"
MSISDN = "254712000111"
E164 = "+254712000111"
CODE_CONTEXT = {"code": "482913", "minutes": 5}
ENGLISH_CODE_SMS = (
    "482913 is your county sign-in code. It expires in 5 minutes. "
    "County staff will never ask you for it."
)
SWAHILI_CODE_SMS = (
    "482913 ni nambari yako ya kuingia kwenye huduma za kaunti. Itaisha baada ya dakika 5. "
    "Wafanyakazi wa kaunti hawatakuuliza nambari hii."
)


class Rollback(Exception):
    """Raised to roll a transaction back on purpose."""


def queue_code(language: str = "en") -> OutboxMessage:
    return queue_sms(to=PHONE, template="sign_in_code", context=CODE_CONTEXT, language=language)


def let_backoff_pass(message: OutboxMessage) -> None:
    """Move the next attempt back to the moment of the failure, as if the wait had passed."""
    message.refresh_from_db()
    OutboxMessage.objects.filter(pk=message.pk).update(
        next_attempt_at=F("next_attempt_at") - retry_delay(message.attempts)
    )


# --- Queueing in the caller's transaction ---------------------------------------------------


def test_a_rolled_back_change_leaves_no_message_and_sends_nothing(
    django_capture_on_commit_callbacks: Any, sent_sms: Callable[[], list[dict[str, str]]]
) -> None:
    def change_that_rolls_back() -> None:
        with transaction.atomic():
            queue_code()
            raise Rollback

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Rollback):
        change_that_rolls_back()

    assert callbacks == []
    assert OutboxMessage.objects.count() == 0
    assert sent_sms() == []


def test_a_committed_message_is_sent_after_commit(
    django_capture_on_commit_callbacks: Any, sent_sms: Callable[[], list[dict[str, str]]]
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = queue_code()
        assert sent_sms() == []

    assert len(callbacks) == 1
    message.refresh_from_db()
    assert (message.channel, message.recipient, message.template, message.language) == (
        Channel.SMS,
        MSISDN,
        "sign_in_code",
        "en",
    )
    assert message.body == ENGLISH_CODE_SMS
    assert (message.status, message.attempts, message.last_error) == (OutboxStatus.SENT, 1, "")
    assert message.sent_at is not None
    assert [(sms["to"], sms["message"]) for sms in sent_sms()] == [(MSISDN, ENGLISH_CODE_SMS)]


def test_a_kiswahili_message_uses_the_kiswahili_template(
    django_capture_on_commit_callbacks: Any, sent_sms: Callable[[], list[dict[str, str]]]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        message = queue_code(language="sw")

    message.refresh_from_db()
    assert (message.language, message.body, message.status) == (
        "sw",
        SWAHILI_CODE_SMS,
        OutboxStatus.SENT,
    )
    assert [sms["message"] for sms in sent_sms()] == [SWAHILI_CODE_SMS]


# --- Sending through Africa's Talking ------------------------------------------------------


def test_a_sent_message_keeps_the_gateway_message_id(
    django_capture_on_commit_callbacks: Any, africastalking_sms: AfricasTalkingSimulator
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        message = queue_code()

    message.refresh_from_db()
    [accepted] = africastalking_sms.messages
    assert (accepted.number, accepted.message) == (E164, ENGLISH_CODE_SMS)
    assert (message.status, message.provider_message_id) == (
        OutboxStatus.SENT,
        accepted.message_id,
    )


def test_a_retryable_failure_waits_for_the_backoff_then_a_sweep_sends_it(
    django_capture_on_commit_callbacks: Any, africastalking_sms: AfricasTalkingSimulator
) -> None:
    africastalking_sms.set_outcome(E164, 500)
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        message = queue_code()
    after = timezone.now()

    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (
        OutboxStatus.PENDING,
        1,
        "Africa's Talking: InternalServerError (500)",
    )
    assert message.sent_at is None
    assert (
        before + timedelta(seconds=30) <= message.next_attempt_at <= after + timedelta(seconds=30)
    )

    # Not due yet: the sweep leaves it alone.
    assert send_pending_notifications() == 0
    assert len(africastalking_sms.requests) == 1

    africastalking_sms.clear_outcomes()
    let_backoff_pass(message)
    assert send_pending_notifications() == 1

    message.refresh_from_db()
    [accepted] = africastalking_sms.messages
    assert (message.status, message.attempts, message.last_error) == (OutboxStatus.SENT, 2, "")
    assert message.provider_message_id == accepted.message_id
    assert len(africastalking_sms.requests) == 2


def test_a_message_that_keeps_failing_is_failed_after_the_last_attempt(
    settings: Any,
    django_capture_on_commit_callbacks: Any,
    africastalking_sms: AfricasTalkingSimulator,
) -> None:
    africastalking_sms.set_outcome(E164, "http 500")
    with django_capture_on_commit_callbacks(execute=True):
        message = queue_code()

    for _attempt in range(2, settings.NOTIFICATION_MAX_ATTEMPTS + 1):
        let_backoff_pass(message)
        assert send_pending_notifications() == 1

    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (
        OutboxStatus.FAILED,
        settings.NOTIFICATION_MAX_ATTEMPTS,
        "Africa's Talking answered HTTP 500",
    )
    assert len(africastalking_sms.requests) == settings.NOTIFICATION_MAX_ATTEMPTS == 6

    # A failed message is never picked up again.
    let_backoff_pass(message)
    assert send_pending_notifications() == 0
    assert len(africastalking_sms.requests) == 6
    assert africastalking_sms.messages == []


def test_a_refused_number_fails_at_once_and_is_not_retried(
    django_capture_on_commit_callbacks: Any, africastalking_sms: AfricasTalkingSimulator
) -> None:
    africastalking_sms.set_outcome(E164, 403)
    with django_capture_on_commit_callbacks(execute=True):
        message = queue_code()

    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (
        OutboxStatus.FAILED,
        1,
        "Africa's Talking: InvalidPhoneNumber (403)",
    )
    let_backoff_pass(message)
    assert send_pending_notifications() == 0
    assert len(africastalking_sms.requests) == 1
    assert africastalking_sms.messages == []


def test_sending_the_same_message_twice_sends_one_sms(
    django_capture_on_commit_callbacks: Any, africastalking_sms: AfricasTalkingSimulator
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        message = queue_code()

    assert send_outbox_message(public_id=message.public_id) is None
    assert send_notification(str(message.public_id)) == "skipped"

    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 1)
    assert len(africastalking_sms.requests) == 1
    assert len(africastalking_sms.messages) == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs row locks (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_a_second_worker_skips_a_message_another_worker_is_sending(
    africastalking_sms: AfricasTalkingSimulator,
) -> None:
    # Written directly: in autocommit, queue_sms would send it on the spot.
    message = OutboxMessage.objects.create(
        channel=Channel.SMS,
        recipient=MSISDN,
        body="Your permit is ready.",
        template="test",
        language="en",
        next_attempt_at=timezone.now(),
    )
    africastalking_sms.response_delay = 0.5

    def first_worker() -> OutboxMessage | None:
        try:
            return send_outbox_message(public_id=message.public_id)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(first_worker)
        deadline = timezone.now() + timedelta(seconds=5)
        while not africastalking_sms.requests and timezone.now() < deadline:
            sleep(0.01)
        assert len(africastalking_sms.requests) == 1
        second = send_outbox_message(public_id=message.public_id)
        sent = first.result(timeout=10)

    assert second is None
    assert sent is not None
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 1)
    assert len(africastalking_sms.messages) == 1


@pytest.mark.parametrize(
    ("attempts", "seconds"),
    [(1, 30), (2, 60), (3, 120), (4, 240), (5, 480), (7, 1920), (8, 3600), (20, 3600)],
)
def test_the_backoff_doubles_from_thirty_seconds_up_to_an_hour(attempts: int, seconds: int) -> None:
    assert retry_delay(attempts) == timedelta(seconds=seconds)


# --- Email --------------------------------------------------------------------------------


WELCOME_CONTEXT = {"full_name": "Wanjiru O'Brien", "county_name": "Nyandarua"}


@pytest.mark.parametrize(
    ("language", "subject", "body"),
    [
        (
            "en",
            "Your Nyandarua County services account is ready",
            "Hello Wanjiru O'Brien,\n\n"
            "Your account for Nyandarua County services is ready. Sign in with your phone "
            "number to apply for permits and licences, pay county fees and follow your "
            "applications.\n\n"
            "County staff will never ask you for your sign-in code.",
        ),
        (
            "sw",
            "Akaunti yako ya huduma za Kaunti ya Nyandarua iko tayari",
            "Habari Wanjiru O'Brien,\n\n"
            "Akaunti yako ya huduma za Kaunti ya Nyandarua iko tayari. Ingia kwa nambari yako "
            "ya simu ili kuomba vibali na leseni, kulipa ada za kaunti na kufuatilia maombi "
            "yako.\n\n"
            "Wafanyakazi wa kaunti hawatakuuliza nambari yako ya kuingia.",
        ),
    ],
)
def test_an_email_takes_its_subject_from_the_first_line(
    settings: Any,
    django_capture_on_commit_callbacks: Any,
    language: str,
    subject: str,
    body: str,
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    with django_capture_on_commit_callbacks(execute=True):
        message = queue_email(
            to="wanjiru@example.com",
            template="account_created",
            context=WELCOME_CONTEXT,
            language=language,
        )

    message.refresh_from_db()
    assert (message.channel, message.subject, message.body, message.status) == (
        Channel.EMAIL,
        subject,
        body,
        OutboxStatus.SENT,
    )
    [email] = mail.outbox
    assert (email.subject, email.body, email.to, email.from_email) == (
        subject,
        body,
        ["wanjiru@example.com"],
        settings.DEFAULT_FROM_EMAIL,
    )
