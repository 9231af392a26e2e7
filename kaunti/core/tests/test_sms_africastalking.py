"""The Africa's Talking SMS backend, driven over real HTTP against the local gateway simulator."""

import socket
from typing import Any

import pytest

from kaunti.core.sms import (
    AT_PRODUCTION_URL,
    AT_SANDBOX_URL,
    AfricasTalkingSmsBackend,
    SentSms,
    SmsError,
)
from kaunti.simulators.africastalking import AfricasTalkingSimulator, Outcome

NUMBER = "+254712000111"


def backend_for(
    gateway: AfricasTalkingSimulator, *, api_key: str | None = None, sender_id: str = ""
) -> AfricasTalkingSmsBackend:
    return AfricasTalkingSmsBackend(
        username=gateway.username,
        api_key=gateway.api_key if api_key is None else api_key,
        base_url=gateway.base_url,
        sender_id=sender_id,
    )


def closed_port_url() -> str:
    """An address nothing listens on: bind a free port, then let it go."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def send_expecting_error(gateway: AfricasTalkingSimulator, outcome: Outcome) -> SmsError:
    gateway.set_outcome(NUMBER, outcome)
    with pytest.raises(SmsError) as error:
        backend_for(gateway).send(to=NUMBER, message="Your permit is ready.")
    assert gateway.messages == []
    return error.value


def test_backend_posts_the_documented_form_fields_and_headers(
    at_gateway: AfricasTalkingSimulator,
) -> None:
    backend_for(at_gateway, sender_id="NYANDARUA").send(
        to="0712 000 111", message="Your permit is ready."
    )

    [request] = at_gateway.requests
    assert (request.method, request.path, request.status) == ("POST", "/version1/messaging", 201)
    assert request.form == {
        "username": "kaunti018",
        "to": "+254712000111",
        "message": "Your permit is ready.",
        "bulkSMSMode": "1",
        "from": "NYANDARUA",
    }
    assert request.headers["apikey"] == "test-africastalking-key"
    assert request.headers["accept"] == "application/json"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"


def test_without_a_sender_id_no_from_field_is_sent(at_gateway: AfricasTalkingSimulator) -> None:
    backend_for(at_gateway).send(to=NUMBER, message="Hello")

    [request] = at_gateway.requests
    assert request.form == {
        "username": "kaunti018",
        "to": "+254712000111",
        "message": "Hello",
        "bulkSMSMode": "1",
    }


@pytest.mark.parametrize("accepted_code", [100, 101, 102])
def test_an_accepted_message_gives_the_gateway_message_id(
    at_gateway: AfricasTalkingSimulator, accepted_code: int
) -> None:
    at_gateway.set_outcome(NUMBER, accepted_code)

    sent = backend_for(at_gateway).send(to=NUMBER, message="Your permit is ready.")

    [accepted] = at_gateway.messages
    assert sent == SentSms(provider_message_id=accepted.message_id)
    assert accepted.message_id.startswith("ATXid_")
    assert len(accepted.message_id) == len("ATXid_") + 32
    assert (accepted.number, accepted.message, accepted.status_code) == (
        NUMBER,
        "Your permit is ready.",
        accepted_code,
    )


def test_a_wrong_api_key_is_refused_and_not_retried(at_gateway: AfricasTalkingSimulator) -> None:
    with pytest.raises(SmsError) as error:
        backend_for(at_gateway, api_key="not-the-key").send(to=NUMBER, message="Hello")

    assert str(error.value) == "Africa's Talking refused the API key"
    assert error.value.retryable is False
    assert [request.status for request in at_gateway.requests] == [401]
    assert at_gateway.messages == []


def test_http_500_from_the_gateway_is_retryable(at_gateway: AfricasTalkingSimulator) -> None:
    error = send_expecting_error(at_gateway, "http 500")

    assert str(error) == "Africa's Talking answered HTTP 500"
    assert error.retryable is True


def test_an_unexpected_http_status_is_not_retried(at_gateway: AfricasTalkingSimulator) -> None:
    error = send_expecting_error(at_gateway, "http 400")

    assert str(error) == "Africa's Talking answered HTTP 400: Bad Request"
    assert error.retryable is False


@pytest.mark.parametrize(
    ("code", "status"),
    [(500, "InternalServerError"), (501, "GatewayError"), (502, "RejectedByGateway")],
)
def test_a_gateway_side_recipient_failure_is_retryable(
    at_gateway: AfricasTalkingSimulator, code: int, status: str
) -> None:
    error = send_expecting_error(at_gateway, code)

    assert str(error) == f"Africa's Talking: {status} ({code})"
    assert error.retryable is True


@pytest.mark.parametrize(
    ("code", "status"),
    [(403, "InvalidPhoneNumber"), (405, "InsufficientBalance"), (406, "UserInBlacklist")],
)
def test_a_recipient_refusal_is_not_retried(
    at_gateway: AfricasTalkingSimulator, code: int, status: str
) -> None:
    error = send_expecting_error(at_gateway, code)

    assert str(error) == f"Africa's Talking: {status} ({code})"
    assert error.retryable is False


def test_an_unregistered_sender_id_is_not_retried() -> None:
    with AfricasTalkingSimulator(sender_ids={"NYANDARUA"}) as gateway:
        with pytest.raises(SmsError) as error:
            backend_for(gateway, sender_id="SOMEONE").send(to=NUMBER, message="Hello")

        assert str(error.value) == "Africa's Talking sent nothing: InvalidSenderId"
        assert error.value.retryable is False
        assert gateway.messages == []


def test_an_unreachable_gateway_is_retryable() -> None:
    backend = AfricasTalkingSmsBackend(
        username="kaunti018", api_key="any-key", base_url=closed_port_url(), sender_id=""
    )

    with pytest.raises(SmsError) as error:
        backend.send(to=NUMBER, message="Hello")

    assert str(error.value).startswith("Africa's Talking unreachable: ")
    assert error.value.retryable is True


@pytest.mark.parametrize(
    ("username", "expected_url"),
    [("sandbox", AT_SANDBOX_URL), ("kaunti018", AT_PRODUCTION_URL)],
)
def test_the_sandbox_username_selects_the_sandbox_gateway(
    settings: Any, username: str, expected_url: str
) -> None:
    settings.AFRICASTALKING_BASE_URL = ""

    backend = AfricasTalkingSmsBackend(username=username, api_key="any-key")

    assert backend.base_url == expected_url


def test_a_configured_base_url_wins_over_the_username(settings: Any) -> None:
    settings.AFRICASTALKING_BASE_URL = "http://127.0.0.1:9999/"

    backend = AfricasTalkingSmsBackend(username="sandbox", api_key="any-key")

    assert backend.base_url == "http://127.0.0.1:9999"
