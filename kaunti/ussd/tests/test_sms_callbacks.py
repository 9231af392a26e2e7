"""Africa's Talking SMS callbacks: delivery reports update the outbox; texted commands
(`STATUS`, `BAL`) are answered by SMS."""

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from kaunti.accounts.models import User
from kaunti.conftest import read_sms
from kaunti.core.models import OutboxMessage, OutboxStatus
from kaunti.core.services.notifications import queue_sms
from kaunti.eservices.models import Application
from kaunti.eservices.services.applications.submission import submit_application
from kaunti.payments.models import Bill
from kaunti.simulators.africastalking import AfricasTalkingSimulator, inbound_sms_form
from kaunti.ussd.models import InboundSms
from kaunti.ussd.tests.factories import PhoneLanguageFactory

pytestmark = pytest.mark.django_db

DELIVERY_URL = "/sms/africastalking/delivery/"
INBOUND_URL = "/sms/africastalking/inbound/"
MakeBill = Callable[..., Bill]


def sent_through_gateway(
    django_capture_on_commit_callbacks: Any, gateway: AfricasTalkingSimulator
) -> OutboxMessage:
    with django_capture_on_commit_callbacks(execute=True):
        message = queue_sms(
            to="0712000111",
            template="sign_in_code",
            context={"code": "482913", "minutes": 5},
            language="en",
        )
    message.refresh_from_db()
    return message


# --- Delivery reports -----------------------------------------------------------------------


def test_a_delivery_report_marks_the_message_delivered(
    client: Client, django_capture_on_commit_callbacks: Any, at_gateway: AfricasTalkingSimulator
) -> None:
    message = sent_through_gateway(django_capture_on_commit_callbacks, at_gateway)
    [accepted] = at_gateway.messages
    assert message.provider_message_id == accepted.message_id

    response = client.post(DELIVERY_URL, at_gateway.delivery_report(accepted.message_id))

    assert (response.status_code, response.content) == (200, b"OK")
    message.refresh_from_db()
    assert (message.status, message.delivery_status) == (OutboxStatus.DELIVERED, "Success")
    assert message.delivered_at is not None


def test_a_failure_report_fails_the_message_with_the_gateway_s_reason(
    client: Client, django_capture_on_commit_callbacks: Any, at_gateway: AfricasTalkingSimulator
) -> None:
    message = sent_through_gateway(django_capture_on_commit_callbacks, at_gateway)

    client.post(
        DELIVERY_URL,
        at_gateway.delivery_report(
            message.provider_message_id, status="Rejected", failure_reason="UserInBlackList"
        ),
    )

    message.refresh_from_db()
    assert (message.status, message.delivery_status, message.status_reason) == (
        OutboxStatus.FAILED,
        "Rejected",
        "UserInBlackList",
    )


def test_a_report_about_no_message_of_ours_is_acknowledged_and_ignored(
    client: Client, django_capture_on_commit_callbacks: Any, at_gateway: AfricasTalkingSimulator
) -> None:
    message = sent_through_gateway(django_capture_on_commit_callbacks, at_gateway)

    response = client.post(
        DELIVERY_URL, {"id": "ATXid_not_ours", "status": "Success", "phoneNumber": "+254712000111"}
    )

    assert response.status_code == 200
    message.refresh_from_db()
    assert (message.status, message.delivery_status) == (OutboxStatus.SENT, "")


def test_callbacks_need_the_configured_token(
    client: Client,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
    at_gateway: AfricasTalkingSimulator,
) -> None:
    settings.AFRICASTALKING_CALLBACK_TOKEN = "s3cret-token"
    message = sent_through_gateway(django_capture_on_commit_callbacks, at_gateway)
    report = at_gateway.delivery_report(message.provider_message_id)

    assert client.post(DELIVERY_URL + "?token=wrong", report).status_code == 403
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert client.post(DELIVERY_URL + "?token=s3cret-token", report).status_code == 200
    message.refresh_from_db()
    assert message.status == OutboxStatus.DELIVERED


# --- Commands texted to the shortcode -----------------------------------------------------


def texts(client: Client, sender: str, text: str, message_id: str = "") -> None:
    response = client.post(
        INBOUND_URL, inbound_sms_form(sender=sender, text=text, message_id=message_id)
    )
    assert (response.status_code, response.content) == (200, b"OK")


def test_status_answers_the_applicant_by_sms(
    client: Client,
    citizen: User,
    draft_ubp: Application,
    sms_file: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    submitted = submit_application(application=draft_ubp, actor=citizen)
    with django_capture_on_commit_callbacks(execute=True):
        texts(client, "+254712000111", f"status {submitted.reference}")

    replies = [sms for sms in read_sms(sms_file) if submitted.reference in sms["message"]]
    assert replies[-1] == {
        "to": "254712000111",
        "message": f"{submitted.reference} (Unified Business Permit): Submitted, awaiting payment",
        "at": replies[-1]["at"],
    }
    inbound = InboundSms.objects.get()
    assert (inbound.sender, inbound.command) == ("254712000111", "status")


def test_status_in_kiswahili_for_a_phone_that_chose_it(
    client: Client,
    citizen: User,
    draft_ubp: Application,
    sms_file: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    submitted = submit_application(application=draft_ubp, actor=citizen)
    PhoneLanguageFactory.create(phone="254712000111", language="sw")
    with django_capture_on_commit_callbacks(execute=True):
        texts(client, "+254712000111", f"HALI {submitted.reference}")

    assert read_sms(sms_file)[-1]["message"] == (
        f"{submitted.reference} (Kibali cha Biashara cha Pamoja): Imewasilishwa, inasubiri malipo"
    )


def test_status_of_someone_else_s_application_reveals_nothing(
    client: Client,
    citizen: User,
    draft_ubp: Application,
    sms_file: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    submitted = submit_application(application=draft_ubp, actor=citizen)
    with django_capture_on_commit_callbacks(execute=True):
        texts(client, "+254722000999", f"STATUS {submitted.reference}")

    assert read_sms(sms_file)[-1] == {
        "to": "254722000999",
        "message": f"We found nothing with reference {submitted.reference} made from this phone.",
        "at": read_sms(sms_file)[-1]["at"],
    }


def test_bal_answers_a_bill_s_balance_and_a_repeat_is_answered_once(
    client: Client, make_bill: MakeBill, sms_file: Path, django_capture_on_commit_callbacks: Any
) -> None:
    bill = make_bill(Decimal("2750.50"))
    with django_capture_on_commit_callbacks(execute=True):
        texts(client, "0733000444", f"BAL {bill.number}", message_id="ATXid_1")
        texts(client, "0733000444", f"BAL {bill.number}", message_id="ATXid_1")

    assert [(sms["to"], sms["message"]) for sms in read_sms(sms_file)] == [
        ("254733000444", f"Bill {bill.number} (Market fees): balance KES 2,750.50.")
    ]
    assert InboundSms.objects.count() == 1


def test_bal_of_an_unknown_number_says_so(
    client: Client, county: None, sms_file: Path, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        texts(client, "0733000444", "BAL NOSUCH1")

    assert read_sms(sms_file)[-1]["message"] == "We found no bill or parcel numbered NOSUCH1."


def test_anything_else_gets_the_list_of_commands(
    client: Client, db: None, sms_file: Path, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        texts(client, "0733000444", "hello")

    assert read_sms(sms_file)[-1]["message"] == (
        "Send STATUS and a reference (STATUS APP-7KQ3MXA), or BAL and a bill or parcel number."
    )
    assert InboundSms.objects.get().command == ""
