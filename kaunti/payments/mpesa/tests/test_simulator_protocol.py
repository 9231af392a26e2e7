"""The simulator refuses what the sandbox refuses, in the sandbox's words (raw HTTP)."""

import base64
from typing import Any

import httpx
import pytest

from kaunti.payments.mpesa.protocol import SANDBOX_PASSKEY
from kaunti.payments.mpesa.tests.conftest import CONSUMER_KEY, CONSUMER_SECRET
from kaunti.simulators.daraja import DarajaSimulator
from kaunti.simulators.daraja.__main__ import parse_arguments

TIMESTAMP = "20260808103015"


def token(simulator: DarajaSimulator) -> str:
    answer = httpx.get(
        f"{simulator.base_url}/oauth/v1/generate",
        params={"grant_type": "client_credentials"},
        auth=(CONSUMER_KEY, CONSUMER_SECRET),
    )
    return str(answer.json()["access_token"])


def push_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "BusinessShortCode": 174379,
        "Password": base64.b64encode(f"174379{SANDBOX_PASSKEY}{TIMESTAMP}".encode()).decode(),
        "Timestamp": TIMESTAMP,
        "TransactionType": "CustomerPayBillOnline",
        "Amount": 1,
        "PartyA": 254708374149,
        "PartyB": 174379,
        "PhoneNumber": 254708374149,
        "CallBackURL": "https://kaunti.example/payments/stk/callback/",
        "AccountReference": "BILL123",
        "TransactionDesc": "Permit",
    }
    body.update(changes)
    return body


def test_oauth_answers_expires_in_as_a_string(simulator: DarajaSimulator) -> None:
    answer = httpx.get(
        f"{simulator.base_url}/oauth/v1/generate",
        params={"grant_type": "client_credentials"},
        auth=(CONSUMER_KEY, CONSUMER_SECRET),
    )
    assert answer.status_code == 200
    assert answer.json()["expires_in"] == "3599"
    assert len(answer.json()["access_token"]) == 28


@pytest.mark.parametrize(
    ("params", "auth", "code", "message"),
    [
        (
            {"grant_type": "password"},
            (CONSUMER_KEY, CONSUMER_SECRET),
            "400.008.02",
            "Invalid grant type passed",
        ),
        (
            {"grant_type": "client_credentials"},
            None,
            "400.008.01",
            "Invalid authentication type passed",
        ),
        (
            {"grant_type": "client_credentials"},
            (CONSUMER_KEY, "wrong"),
            "400.008.01",
            "Invalid Authentication passed",
        ),
    ],
)
def test_oauth_refusals(
    simulator: DarajaSimulator,
    params: dict[str, str],
    auth: tuple[str, str] | None,
    code: str,
    message: str,
) -> None:
    answer = httpx.get(f"{simulator.base_url}/oauth/v1/generate", params=params, auth=auth)
    assert answer.status_code == 400
    assert (answer.json()["errorCode"], answer.json()["errorMessage"]) == (code, message)
    assert simulator.state.token_is_valid("anything") is False


@pytest.mark.parametrize(
    ("authorization", "code", "message"),
    [
        (None, "404.001.04", "Invalid Authentication Header"),
        ("Bearer not-a-token", "404.001.03", "Invalid Access Token"),
    ],
)
def test_push_without_a_valid_token_is_refused(
    simulator: DarajaSimulator, authorization: str | None, code: str, message: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    answer = httpx.post(
        f"{simulator.base_url}/mpesa/stkpush/v1/processrequest", json=push_body(), headers=headers
    )
    assert answer.status_code == 404
    assert (answer.json()["errorCode"], answer.json()["errorMessage"]) == (code, message)
    assert simulator.state.pushes() == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"Amount": 1.5}, "Amount"),
        ({"Amount": 0}, "Amount"),
        ({"Amount": "ten"}, "Amount"),
        ({"PhoneNumber": "0708374149"}, "PhoneNumber"),
        ({"PartyA": 25470837414}, "PartyA"),
        ({"CallBackURL": " https://kaunti.example/cb"}, "CallBackURL"),
        ({"CallBackURL": "kaunti.example/cb"}, "CallBackURL"),
        ({"AccountReference": "LR-0001234-XY"}, "AccountReference"),
        ({"TransactionDesc": "Single business"}, "TransactionDesc"),
        ({"Timestamp": "2026080810301"}, "Timestamp"),
        ({"Timestamp": "20261308103015"}, "Timestamp"),
        ({"TransactionType": "PayBill"}, "TransactionType"),
        ({"BusinessShortCode": "17"}, "BusinessShortCode"),
    ],
)
def test_push_with_a_bad_field_is_a_bad_request_naming_it(
    simulator: DarajaSimulator, changes: dict[str, Any], field: str
) -> None:
    answer = httpx.post(
        f"{simulator.base_url}/mpesa/stkpush/v1/processrequest",
        json=push_body(**changes),
        headers={"Authorization": f"Bearer {token(simulator)}"},
    )
    assert answer.status_code == 400
    assert answer.json()["errorCode"] == "400.002.02"
    assert answer.json()["errorMessage"] == f"Bad Request - Invalid {field}"
    assert answer.json()["requestId"]
    assert simulator.state.pushes() == []


def test_form_encoded_push_is_refused_as_safaricom_does(simulator: DarajaSimulator) -> None:
    answer = httpx.post(
        f"{simulator.base_url}/mpesa/stkpush/v1/processrequest",
        data={k: str(v) for k, v in push_body().items()},
        headers={"Authorization": f"Bearer {token(simulator)}"},
    )
    assert answer.status_code == 400
    assert answer.json()["errorMessage"] == "Bad Request - Invalid BusinessShortCode"


def test_push_to_another_shortcode_is_an_unknown_merchant(simulator: DarajaSimulator) -> None:
    password = base64.b64encode(f"600610{SANDBOX_PASSKEY}{TIMESTAMP}".encode()).decode()
    answer = httpx.post(
        f"{simulator.base_url}/mpesa/stkpush/v1/processrequest",
        json=push_body(BusinessShortCode=600610, PartyB=600610, Password=password),
        headers={"Authorization": f"Bearer {token(simulator)}"},
    )
    assert answer.status_code == 500
    assert (answer.json()["errorCode"], answer.json()["errorMessage"]) == (
        "500.001.1001",
        "Merchant does not exist",
    )


def test_password_from_another_timestamp_is_wrong_credentials(simulator: DarajaSimulator) -> None:
    answer = httpx.post(
        f"{simulator.base_url}/mpesa/stkpush/v1/processrequest",
        json=push_body(Timestamp="20260808103016"),
        headers={"Authorization": f"Bearer {token(simulator)}"},
    )
    assert answer.status_code == 500
    assert answer.json()["errorMessage"] == "[MerchantValidate] - Wrong credentials"


def test_unknown_path_and_wrong_method(simulator: DarajaSimulator) -> None:
    missing = httpx.post(f"{simulator.base_url}/mpesa/nothing/v1/here", json={})
    assert (missing.status_code, missing.json()["errorCode"]) == (404, "404.001.01")
    wrong_method = httpx.get(f"{simulator.base_url}/mpesa/stkpush/v1/processrequest")
    assert (wrong_method.status_code, wrong_method.json()["errorCode"]) == (405, "405.001")


def test_command_line_arguments_become_the_config() -> None:
    config = parse_arguments(
        [
            "--port",
            "8001",
            "--consumer-key",
            "demo",
            "--validation",
            "--msisdn-mode",
            "hashed",
            "--outcome",
            "cancelled",
            "--delivery",
            "twice",
        ]
    )
    assert (config.port, config.consumer_key, config.validation) == (8001, "demo", True)
    assert (config.msisdn_mode.value, config.script.outcome.value) == ("hashed", "cancelled")
    assert config.script.delivery.value == "twice"
    assert config.passkey == SANDBOX_PASSKEY
    assert config.refuse_forbidden_url_words is True
    assert parse_arguments(["--allow-any-c2b-url"]).refuse_forbidden_url_words is False
