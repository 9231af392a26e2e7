"""Delivery reports on outbox messages, the list staff see, and sending a failed one again."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from kaunti.core.models import AuditEvent, OutboxMessage, OutboxStatus
from kaunti.core.services.notifications import queue_sms
from kaunti.core.services.outbox import (
    list_undelivered_messages,
    record_delivery_report,
    requeue_failed_message,
)
from kaunti.core.sms import AfricasTalkingSmsBackend
from kaunti.simulators.africastalking import AfricasTalkingSimulator

pytestmark = pytest.mark.django_db

E164 = "+254712000111"


def sent_message(
    django_capture_on_commit_callbacks: Any, gateway: AfricasTalkingSimulator
) -> OutboxMessage:
    with django_capture_on_commit_callbacks(execute=True):
        message = queue_sms(
            to=E164,
            template="sign_in_code",
            context={"code": "482913", "minutes": 5},
            language="en",
        )
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    return message


def test_a_success_report_marks_the_message_delivered(
    django_capture_on_commit_callbacks: Any, africastalking_sms: AfricasTalkingSimulator
) -> None:
    message = sent_message(django_capture_on_commit_callbacks, africastalking_sms)
    report = africastalking_sms.delivery_report(message.provider_message_id, status="Success")

    updated = record_delivery_report(provider_message_id=report["id"], status=report["status"])

    assert updated is not None
    message.refresh_from_db()
    assert (message.status, message.delivery_status, message.status_reason) == (
        OutboxStatus.DELIVERED,
        "Success",
        "",
    )
    assert message.delivered_at is not None
    assert list(list_undelivered_messages()) == []


def test_a_failed_report_marks_the_message_failed_with_its_reason_for_staff(
    django_capture_on_commit_callbacks: Any, africastalking_sms: AfricasTalkingSimulator
) -> None:
    message = sent_message(django_capture_on_commit_callbacks, africastalking_sms)

    record_delivery_report(
        provider_message_id=message.provider_message_id,
        status="Failed",
        failure_reason="UserInBlackList",
    )

    message.refresh_from_db()
    assert (message.status, message.delivery_status, message.status_reason) == (
        OutboxStatus.FAILED,
        "Failed",
        "UserInBlackList",
    )
    assert message.last_error == "Not delivered: Failed (UserInBlackList)"
    assert message.delivered_at is None
    assert list(list_undelivered_messages()) == [message]


def test_an_interim_report_is_kept_but_never_undoes_a_final_one(
    django_capture_on_commit_callbacks: Any, africastalking_sms: AfricasTalkingSimulator
) -> None:
    message = sent_message(django_capture_on_commit_callbacks, africastalking_sms)
    record_delivery_report(provider_message_id=message.provider_message_id, status="Buffered")
    message.refresh_from_db()
    assert (message.status, message.delivery_status) == (OutboxStatus.SENT, "Buffered")

    record_delivery_report(provider_message_id=message.provider_message_id, status="Success")
    record_delivery_report(provider_message_id=message.provider_message_id, status="Submitted")
    message.refresh_from_db()
    assert (message.status, message.delivery_status) == (OutboxStatus.DELIVERED, "Success")


def test_a_report_for_an_unknown_message_or_status_changes_nothing(
    django_capture_on_commit_callbacks: Any, africastalking_sms: AfricasTalkingSimulator
) -> None:
    message = sent_message(django_capture_on_commit_callbacks, africastalking_sms)

    assert record_delivery_report(provider_message_id="ATXid_nobody", status="Success") is None
    assert (
        record_delivery_report(provider_message_id=message.provider_message_id, status="Lost")
        is None
    )
    message.refresh_from_db()
    assert (message.status, message.delivery_status, message.delivered_at) == (
        OutboxStatus.SENT,
        "",
        None,
    )


def test_a_failed_message_can_be_sent_again_from_a_fresh_round_of_attempts(
    django_capture_on_commit_callbacks: Any, africastalking_sms: AfricasTalkingSimulator
) -> None:
    africastalking_sms.set_outcome(E164, 403)
    with django_capture_on_commit_callbacks(execute=True):
        message = queue_sms(
            to=E164, template="sign_in_code", context={"code": "1", "minutes": 5}, language="en"
        )
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, 1)
    africastalking_sms.clear_outcomes()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        requeued = requeue_failed_message(public_id=message.public_id, actor=None)

    assert requeued is not None
    assert len(callbacks) == 2  # the send, and the audit chain's sequencer (ADR 19)
    message.refresh_from_db()
    [accepted] = africastalking_sms.messages
    assert (message.status, message.attempts, message.provider_message_id) == (
        OutboxStatus.SENT,
        1,
        accepted.message_id,
    )
    event = AuditEvent.objects.get(action="core.outbox_message_requeued")
    assert (event.target_id, event.data["attempts"]) == (str(message.pk), 1)


def test_only_a_failed_message_can_be_sent_again(
    django_capture_on_commit_callbacks: Any, africastalking_sms: AfricasTalkingSimulator
) -> None:
    message = sent_message(django_capture_on_commit_callbacks, africastalking_sms)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert requeue_failed_message(public_id=message.public_id, actor=None) is None

    assert callbacks == []
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 1)
    assert len(africastalking_sms.messages) == 1
    assert AuditEvent.objects.filter(action="core.outbox_message_requeued").count() == 0


# --- The simulator posts delivery reports --------------------------------------------------


class _Collector(BaseHTTPRequestHandler):
    received: list[dict[str, str]]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode())
        type(self).received.append({name: values[-1] for name, values in form.items()})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def callback_server() -> Iterator[tuple[str, list[dict[str, str]]]]:
    received: list[dict[str, str]] = []
    handler = type("Collector", (_Collector,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/dlr/", received
    server.shutdown()
    server.server_close()


def test_the_simulator_posts_each_accepted_message_s_report_to_the_callback(
    callback_server: tuple[str, list[dict[str, str]]],
) -> None:
    url, received = callback_server
    with AfricasTalkingSimulator(
        username="kaunti018",
        api_key="k",
        delivery_report_url=url,
        auto_delivery_status="Failed",
    ) as gateway:
        gateway.auto_delivery_delay = 0.0
        sent = AfricasTalkingSmsBackend(
            username="kaunti018", api_key="k", base_url=gateway.base_url, sender_id=""
        ).send(to=E164, message="Hello")
        gateway.wait_for_reports()
        assert gateway.send_delivery_report(sent.provider_message_id, status="Success") == 200

    assert received == [
        {
            "id": sent.provider_message_id,
            "status": "Failed",
            "phoneNumber": E164,
            "networkCode": "63902",
            "failureReason": "DeliveryFailure",
        },
        {
            "id": sent.provider_message_id,
            "status": "Success",
            "phoneNumber": E164,
            "networkCode": "63902",
        },
    ]
