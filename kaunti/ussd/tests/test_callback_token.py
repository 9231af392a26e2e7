"""Africa's Talking's callbacks carry a secret token: production will not start without one,
and a callback without it, or with a wrong one, is refused and changes nothing."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from kaunti.simulators.africastalking import inbound_sms_form, ussd_form
from kaunti.ussd.models import InboundSms, PhoneLanguage
from kaunti.ussd.tests.conftest import MSISDN, PHONE, USSD_URL

TOKEN = "s3cret-callback-token-6f1d"
DELIVERY_URL = "/sms/africastalking/delivery/"
INBOUND_URL = "/sms/africastalking/inbound/"
FIRST = "CON Karibu Nyandarua\nChoose language / Chagua lugha\n1. English\n2. Kiswahili"
REFUSED = "Set AFRICASTALKING_CALLBACK_TOKEN to a secret value in production."


def load_production_settings(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    """Import the settings in a fresh interpreter with production's environment (DEBUG off)
    and print the token they hold."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DEBUG": "0",
        "SECRET_KEY": "production-test-secret-" + "k" * 40,
        "ALLOWED_HOSTS": "kaunti.example.go.ke",
        "MPESA_CALLBACK_TOKEN": "production-mpesa-token-" + "m" * 20,
        "STATIC_ROOT": str(tmp_path / "static"),
        **extra,
    }
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from kaunti import settings; print(repr(settings.AFRICASTALKING_CALLBACK_TOKEN))",
        ],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --- Production requires the token ----------------------------------------------------------


@pytest.mark.parametrize("extra", [{}, {"AFRICASTALKING_CALLBACK_TOKEN": "  "}])
def test_production_settings_refuse_to_load_without_the_callback_token(
    tmp_path: Path, extra: dict[str, str]
) -> None:
    result = load_production_settings(tmp_path, **extra)

    assert result.returncode == 1
    assert result.stdout == ""
    assert f"django.core.exceptions.ImproperlyConfigured: {REFUSED}" in result.stderr


def test_production_settings_load_with_the_callback_token(tmp_path: Path) -> None:
    result = load_production_settings(tmp_path, AFRICASTALKING_CALLBACK_TOKEN=TOKEN)

    assert (result.returncode, result.stdout, result.stderr) == (0, f"'{TOKEN}'\n", "")


# --- A set token is checked on every callback -------------------------------------------------


@pytest.fixture
def token(settings: Any) -> str:
    settings.AFRICASTALKING_CALLBACK_TOKEN = TOKEN
    return TOKEN


def ussd_step(client: Client, query: str, text: str) -> tuple[int, str]:
    response = client.post(
        USSD_URL + query, ussd_form(session_id="ATUid_token_1", phone_number=PHONE, text=text)
    )
    return response.status_code, response.content.decode()


WRONG_TOKENS = ["", "?token=", "?token=wrong", f"?token={TOKEN}x", "?token=%C3%A9", "?token=%00"]


@pytest.mark.django_db
@pytest.mark.parametrize("query", WRONG_TOKENS)
def test_a_ussd_step_without_the_right_token_is_refused_and_changes_nothing(
    client: Client, reference_data: None, token: str, query: str
) -> None:
    assert ussd_step(client, f"?token={token}", "") == (200, FIRST)

    assert ussd_step(client, query, "1") == (403, "Forbidden")
    assert PhoneLanguage.objects.count() == 0

    # The session still waits for its language: the refused answer was not taken.
    status, screen = ussd_step(client, f"?token={token}", "2")
    assert (status, screen.splitlines()[0]) == (200, "CON Kaunti ya Nyandarua")
    assert PhoneLanguage.objects.get(phone=MSISDN).language == "sw"


@pytest.mark.django_db
@pytest.mark.parametrize("query", WRONG_TOKENS)
def test_a_texted_command_without_the_right_token_is_refused_and_not_stored(
    client: Client, sms_file: Path, token: str, query: str
) -> None:
    form = inbound_sms_form(sender="+254712000111", text="BAL 1234")

    response = client.post(INBOUND_URL + query, form)

    assert (response.status_code, response.content) == (403, b"Forbidden")
    assert InboundSms.objects.count() == 0
    assert not sms_file.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("query", WRONG_TOKENS)
def test_a_delivery_report_without_the_right_token_is_refused(
    client: Client, token: str, query: str
) -> None:
    response = client.post(DELIVERY_URL + query, {"id": "ATXid_1", "status": "Success"})

    assert (response.status_code, response.content) == (403, b"Forbidden")


@pytest.mark.django_db
def test_a_texted_command_with_the_right_token_is_taken(
    client: Client, sms_file: Path, token: str
) -> None:
    form = inbound_sms_form(sender="+254712000111", text="BAL 1234", message_id="ATXid_ok")

    response = client.post(f"{INBOUND_URL}?token={token}", form)

    assert (response.status_code, response.content) == (200, b"OK")
    assert InboundSms.objects.get().provider_message_id == "ATXid_ok"
