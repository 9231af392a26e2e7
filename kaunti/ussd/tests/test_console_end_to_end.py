"""As a new user would try it: `ussd_console` against a running server pays a bill, the
Daraja simulator prompts the phone and calls back, the receipt leaves by SMS through
Africa's Talking (simulated), and its delivery report comes back.

Transactional: the live server thread must see what the test commits.
"""

import io
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError

from kaunti.core.models import OutboxMessage, OutboxStatus
from kaunti.payments.models import Bill, BillStatus, Receipt, StkRequest
from kaunti.simulators.africastalking import AfricasTalkingSimulator
from kaunti.simulators.daraja import (
    DarajaSimulator,
    DeliveryKind,
    DeliveryMode,
    Outcome,
    Script,
    SimulatorConfig,
)
from kaunti.ussd.models import PhoneLanguage
from kaunti.ussd.tests.conftest import AT_API_KEY, AT_USERNAME

pytestmark = pytest.mark.django_db(transaction=True)

PAYER = "254712000222"


def wait_until(condition: Callable[[], bool], *, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s")
        time.sleep(0.05)


@pytest.fixture
def daraja(live_server: Any, settings: Any) -> Iterator[DarajaSimulator]:
    simulator = DarajaSimulator(
        SimulatorConfig(
            consumer_key=django_settings.MPESA_CONSUMER_KEY,
            consumer_secret=django_settings.MPESA_CONSUMER_SECRET,
            shortcode=django_settings.MPESA_SHORTCODE,
            passkey=django_settings.MPESA_PASSKEY,
            script=Script(outcome=Outcome.SUCCESS, delivery=DeliveryMode.ONCE),
            callback_timeout_seconds=10.0,
        )
    ).start()
    settings.MPESA_BASE_URL = simulator.base_url
    settings.MPESA_CALLBACK_BASE_URL = live_server.url
    yield simulator
    simulator.stop()


@pytest.fixture
def reporting_gateway(live_server: Any, settings: Any) -> Iterator[AfricasTalkingSimulator]:
    """Africa's Talking, reporting each message delivered to the live server."""
    with AfricasTalkingSimulator(
        username=AT_USERNAME,
        api_key=AT_API_KEY,
        delivery_report_url=f"{live_server.url}/sms/africastalking/delivery/",
        auto_delivery_status="Success",
    ) as gateway:
        settings.SMS_BACKEND = "africastalking"
        settings.AFRICASTALKING_USERNAME = AT_USERNAME
        settings.AFRICASTALKING_API_KEY = AT_API_KEY
        settings.AFRICASTALKING_BASE_URL = gateway.base_url
        settings.SMS_SENDER_ID = ""
        yield gateway


def play(live_server: Any, typed: str, phone: str = "0712000222") -> str:
    out = io.StringIO()
    call_command(
        "ussd_console", phone=phone, url=live_server.url, stdin=io.StringIO(typed), stdout=out
    )
    return out.getvalue()


def test_a_new_caller_pays_a_bill_from_the_console_and_gets_the_sms_receipt(
    live_server: Any,
    daraja: DarajaSimulator,
    reporting_gateway: AfricasTalkingSimulator,
    make_bill: Callable[..., Bill],
) -> None:
    bill = make_bill(Decimal("1500.00"))

    transcript = play(live_server, f"1\n1\n{bill.number}\n1\n")

    assert transcript == (
        f"Dialling *000*18# from +{PAYER} ({live_server.url}/ussd/africastalking/)\n"
        "\nKaribu Nyandarua\nChoose language / Chagua lugha\n1. English\n2. Kiswahili\n> "
        "\nNyandarua County\n1. Pay a bill\n2. Land rates\n3. Renew business permit\n"
        "4. Application status\n5. Report a problem\n6. Verify permit/receipt\n7. Language\n> "
        "\nEnter the bill number\n0. Back\n> "
        f"\nBill {bill.number}\nMarket fees\nBalance KES 1,500.00\n"
        "1. Pay from 0712 *** 222\n0. Back\n> "
        "\nYou will get an M-Pesa prompt for KES 1,500.00 on this phone. Enter your M-Pesa "
        "PIN to pay. Your receipt comes by SMS.\n[session ended]\n"
    )
    assert PhoneLanguage.objects.get(phone=PAYER).language == "en"

    # The simulator prompted the phone and called back: the bill is paid.
    [delivery] = daraja.wait_for_deliveries(1, kind=DeliveryKind.STK_CALLBACK)
    assert delivery.status == 200
    stk = StkRequest.objects.get()
    assert (stk.channel, stk.phone, stk.amount) == ("ussd", PAYER, 1500)
    wait_until(lambda: Bill.objects.get(pk=bill.pk).status == BillStatus.PAID)
    receipt = Receipt.objects.get()

    # The receipt went out through Africa's Talking, and its delivery report came back.
    wait_until(lambda: len(reporting_gateway.messages) == 1)
    [sms] = reporting_gateway.messages
    assert sms.number == f"+{PAYER}"
    assert receipt.number in sms.message
    reporting_gateway.wait_for_reports()
    wait_until(
        lambda: (
            OutboxMessage.objects.get(template="payment_received").status == OutboxStatus.DELIVERED
        )
    )
    message = OutboxMessage.objects.get(template="payment_received")
    assert (message.provider_message_id, message.delivery_status) == (sms.message_id, "Success")


def test_the_console_stops_when_input_runs_out(live_server: Any, reference_data: None) -> None:
    assert play(live_server, "2\n").endswith(
        "\nKaunti ya Nyandarua\n1. Lipa bili\n2. Kodi ya ardhi\n3. Rejesha kibali cha biashara\n"
        "4. Hali ya ombi\n5. Ripoti tatizo\n6. Hakiki kibali/risiti\n7. Lugha\n> \n"
        "[no more input: session left]\n"
    )


def test_the_console_calls_the_server_make_run_serves_whatever_its_port(
    live_server: Any, settings: Any, tmp_path: Any, reference_data: None
) -> None:
    """`make run PORT=...` writes the address it serves on; the console needs no --url."""
    run_url = tmp_path / "run-url"
    run_url.write_text(live_server.url + "\n")
    settings.RUN_URL_FILE = run_url
    settings.SITE_URL = "http://127.0.0.1:1"  # not where the demo is served
    out = io.StringIO()
    call_command("ussd_console", phone="0712000222", stdin=io.StringIO("2\n"), stdout=out)

    assert out.getvalue().startswith(
        f"Dialling *000*18# from +{PAYER} ({live_server.url}/ussd/africastalking/)\n"
        "\nKaribu Nyandarua\n"
    )


def test_without_make_run_the_console_calls_site_url(settings: Any, tmp_path: Any) -> None:
    settings.RUN_URL_FILE = tmp_path / "no-run-url"
    settings.SITE_URL = "http://127.0.0.1:1"
    out = io.StringIO()
    with pytest.raises(CommandError, match="the server did not answer"):
        call_command("ussd_console", phone="0712000222", stdin=io.StringIO(""), stdout=out)
    assert out.getvalue() == (
        f"Dialling *000*18# from +{PAYER} (http://127.0.0.1:1/ussd/africastalking/)\n"
    )
