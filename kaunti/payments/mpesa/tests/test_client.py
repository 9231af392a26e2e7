"""The real Daraja client against the simulator over HTTP: tokens, pushes, queries, errors."""

import base64
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache

from kaunti.payments.mpesa.client import (
    DarajaClient,
    DarajaConfig,
    DarajaError,
    StkQueryResult,
    stk_password,
)
from kaunti.payments.mpesa.protocol import SANDBOX_PASSKEY
from kaunti.payments.mpesa.tests.conftest import PHONE, Receiver, make_client
from kaunti.simulators.daraja import DarajaSimulator, DeliveryMode, Outcome

OAUTH = "/oauth/v1/generate"
PUSH = "/mpesa/stkpush/v1/processrequest"
QUERY = "/mpesa/stkpushquery/v1/query"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def push(client: DarajaClient, receiver: Receiver, **overrides: object) -> str:
    arguments: dict[str, object] = {
        "phone": "0708 374 149",
        "amount": 1500,
        "account_reference": "BILL123",
        "description": "Single business permit",
        "callback_url": receiver.url("/stk/callback"),
    }
    arguments.update(overrides)
    return client.stk_push(**arguments).checkout_request_id  # type: ignore[arg-type]


def test_push_is_accepted_with_ids_shaped_like_safaricoms(
    daraja: DarajaClient, receiver: Receiver
) -> None:
    accepted = daraja.stk_push(
        phone="0708374149",
        amount=1500,
        account_reference="BILL123",
        description="Permit",
        callback_url=receiver.url("/stk/callback"),
    )
    assert accepted.response_code == "0"
    assert accepted.customer_message == "Success. Request accepted for processing"
    assert accepted.merchant_request_id[5] == "-"
    assert len(accepted.merchant_request_id.split("-")[1]) == 8
    assert accepted.checkout_request_id.startswith("ws_CO_")
    assert accepted.checkout_request_id.endswith(PHONE)
    assert len(accepted.checkout_request_id) == len("ws_CO_") + 17 + 12


def test_two_pushes_share_one_oauth_token(
    simulator: DarajaSimulator, daraja: DarajaClient, receiver: Receiver
) -> None:
    push(daraja, receiver)
    push(daraja, receiver)
    assert simulator.request_count(OAUTH) == 1
    assert simulator.request_count(PUSH) == 2


def test_another_app_node_reuses_the_cached_token(
    simulator: DarajaSimulator, receiver: Receiver
) -> None:
    first_node, second_node = make_client(simulator), make_client(simulator)
    push(first_node, receiver)
    push(second_node, receiver)
    assert simulator.request_count(OAUTH) == 1
    cached = cache.get(first_node.token_cache_key)
    assert isinstance(cached["token"], str)
    assert first_node.token_cache_key.startswith("mpesa:daraja-token:")
    assert "kaunti-consumer-key" not in first_node.token_cache_key


def test_token_is_fetched_again_once_it_expires(
    simulator: DarajaSimulator, receiver: Receiver
) -> None:
    clock = Clock(datetime(2026, 8, 8, 7, 0, tzinfo=UTC))
    client = make_client(simulator, clock=clock)
    push(client, receiver)
    # The simulator says expires_in "3599"; the client stops using it 60 s early.
    clock.now += timedelta(seconds=3599 - 61)
    push(client, receiver)
    assert simulator.request_count(OAUTH) == 1
    clock.now += timedelta(seconds=2)
    push(client, receiver)
    assert simulator.request_count(OAUTH) == 2


def test_a_refused_token_is_dropped_and_the_call_made_once_more(
    simulator: DarajaSimulator, daraja: DarajaClient, receiver: Receiver
) -> None:
    push(daraja, receiver)
    simulator.expire_tokens()
    push(daraja, receiver)
    assert simulator.request_count(OAUTH) == 2
    assert [r.status for r in simulator.state.requests(PUSH)] == [200, 404, 200]


def test_wrong_consumer_secret_is_refused_and_nothing_is_pushed(
    simulator: DarajaSimulator, receiver: Receiver
) -> None:
    client = make_client(simulator, config_consumer_secret="not-the-secret")
    with pytest.raises(DarajaError) as caught:
        push(client, receiver)
    assert caught.value.error_code == "400.008.01"
    assert caught.value.http_status == 400
    assert caught.value.retryable is False
    assert simulator.request_count(PUSH) == 0
    assert cache.get(client.token_cache_key) is None


def test_push_sends_the_password_made_from_its_own_timestamp(
    simulator: DarajaSimulator, receiver: Receiver
) -> None:
    clock = Clock(datetime(2026, 8, 8, 7, 30, 15, tzinfo=UTC))
    client = make_client(simulator, clock=clock)
    push(client, receiver, description="Single business permit 2026")
    expected_password = base64.b64encode(f"174379{SANDBOX_PASSKEY}20260808103015".encode()).decode()
    assert simulator.state.requests(PUSH)[0].body == {
        "BusinessShortCode": 174379,
        "Password": expected_password,
        "Timestamp": "20260808103015",  # 10:30:15 in Nairobi (UTC+3)
        "TransactionType": "CustomerPayBillOnline",
        "Amount": 1500,
        "PartyA": 254708374149,
        "PartyB": 174379,
        "PhoneNumber": 254708374149,
        "CallBackURL": receiver.url("/stk/callback"),
        "AccountReference": "BILL123",
        "TransactionDesc": "Single busine",  # cut to 13 characters
    }
    assert (
        stk_password(shortcode="174379", passkey=SANDBOX_PASSKEY, timestamp="20260808103015")
        == expected_password
    )


def test_wrong_passkey_is_refused_as_wrong_credentials(
    simulator: DarajaSimulator, receiver: Receiver
) -> None:
    client = make_client(simulator, config_passkey="0" * 64)
    with pytest.raises(DarajaError) as caught:
        push(client, receiver)
    assert caught.value.error_code == "500.001.1001"
    assert caught.value.message == "[MerchantValidate] - Wrong credentials"
    assert caught.value.http_status == 500
    assert caught.value.retryable is False
    assert simulator.state.pushes() == []
    assert receiver.received == []


def test_account_reference_longer_than_12_characters_is_refused_before_any_call(
    simulator: DarajaSimulator, daraja: DarajaClient, receiver: Receiver
) -> None:
    with pytest.raises(ValueError, match="longer than 12"):
        push(daraja, receiver, account_reference="LR-0001234-XY")
    assert simulator.state.requests() == []


@pytest.mark.parametrize("amount", [0, -5, 1.5, Decimal("10"), "10", True])
def test_amount_must_be_a_whole_number_of_shillings(
    simulator: DarajaSimulator, daraja: DarajaClient, receiver: Receiver, amount: object
) -> None:
    with pytest.raises(ValueError, match="shilling"):
        push(daraja, receiver, amount=amount)
    assert simulator.state.requests() == []


def test_phone_that_is_not_a_kenyan_mobile_is_refused(
    simulator: DarajaSimulator, daraja: DarajaClient, receiver: Receiver
) -> None:
    with pytest.raises(ValueError, match="not a Kenyan mobile number"):
        push(daraja, receiver, phone="0208374149")
    assert simulator.state.requests() == []


def test_query_is_pending_until_the_payer_answers_then_final(
    simulator: DarajaSimulator, daraja: DarajaClient, receiver: Receiver
) -> None:
    simulator.set_outcome(Outcome.PHONE)
    checkout_request_id = push(daraja, receiver)
    assert daraja.stk_query(checkout_request_id=checkout_request_id) == StkQueryResult(
        pending=True, result_code=None, result_desc="The transaction is being processed"
    )
    assert simulator.answer_prompt(checkout_request_id, "cancel") is True
    result = daraja.stk_query(checkout_request_id=checkout_request_id)
    assert result == StkQueryResult(
        pending=False, result_code="1032", result_desc="[STK_CB - ]Request cancelled by user"
    )
    assert result.is_success is False


def test_a_callback_never_delivered_is_still_answered_by_the_query(
    simulator: DarajaSimulator, daraja: DarajaClient, receiver: Receiver
) -> None:
    simulator.set_outcome(Outcome.PHONE, delivery=DeliveryMode.NEVER)
    checkout_request_id = push(daraja, receiver)
    assert daraja.stk_query(checkout_request_id=checkout_request_id).pending is True
    simulator.answer_prompt(checkout_request_id, "pay")
    result = daraja.stk_query(checkout_request_id=checkout_request_id)
    assert (result.pending, result.result_code, result.is_success) == (False, "0", True)
    assert result.result_desc == "The service request is processed successfully."
    with pytest.raises(TimeoutError):
        simulator.wait_for_deliveries(1, timeout=0.5)
    assert receiver.received == []


def test_a_scripted_outcome_is_pending_while_processing(
    start_simulator: Callable[..., DarajaSimulator], receiver: Receiver
) -> None:
    simulator = start_simulator(processing_seconds=1.0)
    simulator.set_outcome(Outcome.INSUFFICIENT_FUNDS)
    client = make_client(simulator)
    checkout_request_id = push(client, receiver)
    assert client.stk_query(checkout_request_id=checkout_request_id).pending is True
    simulator.wait_for_deliveries(1, timeout=5)
    assert client.stk_query(checkout_request_id=checkout_request_id) == StkQueryResult(
        pending=False,
        result_code="1",
        result_desc="The balance is insufficient for the transaction.",
    )


def test_query_for_an_unknown_checkout_request_is_a_bad_request(daraja: DarajaClient) -> None:
    with pytest.raises(DarajaError) as caught:
        daraja.stk_query(checkout_request_id="ws_CO_000000000000000000254708374149")
    assert caught.value.error_code == "400.002.02"
    assert caught.value.message == "Bad Request - Invalid CheckoutRequestID"
    assert caught.value.retryable is False


def test_a_second_push_while_the_phone_shows_a_prompt_is_refused_but_retryable(
    simulator: DarajaSimulator, daraja: DarajaClient, receiver: Receiver
) -> None:
    simulator.set_outcome(Outcome.PHONE)
    push(daraja, receiver)
    with pytest.raises(DarajaError) as caught:
        push(daraja, receiver)
    assert caught.value.error_code == "500.001.1001"
    assert caught.value.message.startswith("Unable to lock subscriber")
    assert caught.value.retryable is True
    assert len(simulator.state.pushes()) == 1


def test_unreachable_daraja_is_a_retryable_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = DarajaClient(
        DarajaConfig(
            base_url=f"http://127.0.0.1:{port}",
            consumer_key="k",
            consumer_secret="s",
            shortcode="174379",
            passkey=SANDBOX_PASSKEY,
            callback_base_url="https://kaunti.example",
            c2b_register_version="v1",
        )
    )
    with pytest.raises(DarajaError) as caught:
        client.stk_query(checkout_request_id="ws_CO_1")
    assert caught.value.retryable is True
    assert caught.value.http_status is None
    assert "unreachable" in caught.value.message


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


def test_daraja_that_does_not_answer_in_time_is_a_retryable_error(silent_server: str) -> None:
    client = DarajaClient(
        DarajaConfig(
            base_url=silent_server,
            consumer_key="k",
            consumer_secret="s",
            shortcode="174379",
            passkey=SANDBOX_PASSKEY,
            callback_base_url="https://kaunti.example",
            c2b_register_version="v1",
        ),
        timeout=0.3,
    )
    with pytest.raises(DarajaError) as caught:
        client.stk_query(checkout_request_id="ws_CO_1")
    assert caught.value.retryable is True
    assert "in time" in caught.value.message


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("c2b_register_version", "v3", "c2b_register_version"),
        ("shortcode", "17437a", "shortcode"),
        ("transaction_type", "PayBill", "transaction_type"),
        ("base_url", "sandbox.safaricom.co.ke", "base_url"),
    ],
)
def test_config_refuses_values_daraja_would_not_take(field: str, value: str, message: str) -> None:
    config = {
        "base_url": "https://sandbox.safaricom.co.ke",
        "consumer_key": "k",
        "consumer_secret": "s",
        "shortcode": "174379",
        "passkey": SANDBOX_PASSKEY,
        "callback_base_url": "https://kaunti.example/",
        "c2b_register_version": "v1",
        field: value,
    }
    with pytest.raises(ValueError, match=message):
        DarajaConfig(**config)  # type: ignore[arg-type]


def test_config_hides_its_secrets_and_builds_callback_urls() -> None:
    config = DarajaConfig(
        base_url="https://sandbox.safaricom.co.ke",
        consumer_key="key",
        consumer_secret="very-secret",
        shortcode="174379",
        passkey=SANDBOX_PASSKEY,
        callback_base_url="https://kaunti.example/",
        c2b_register_version="v2",
    )
    assert "very-secret" not in repr(config)
    assert SANDBOX_PASSKEY not in repr(config)
    assert config.callback_url("/payments/stk/callback/") == (
        "https://kaunti.example/payments/stk/callback/"
    )
