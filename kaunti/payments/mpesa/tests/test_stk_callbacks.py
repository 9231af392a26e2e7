"""Every scripted STK outcome reaches our callback URL with the exact JSON Safaricom sends."""

import re
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
import pytest

from kaunti.payments.mpesa.client import DarajaClient, StkCallback, parse_stk_callback
from kaunti.payments.mpesa.tests.conftest import PHONE, Receiver, make_client
from kaunti.simulators.daraja import DarajaSimulator, DeliveryKind, DeliveryMode, Outcome

NAIROBI = ZoneInfo("Africa/Nairobi")
RECEIPT = re.compile(r"^[A-Z][A-Z0-9]{9}$")


def push(client: DarajaClient, receiver: Receiver, phone: str = PHONE) -> tuple[str, str]:
    accepted = client.stk_push(
        phone=phone,
        amount=1500,
        account_reference="BILL123",
        description="Permit",
        callback_url=receiver.url("/stk/callback"),
    )
    return accepted.merchant_request_id, accepted.checkout_request_id


def test_success_callback_has_the_metadata_items_by_name(
    simulator: DarajaSimulator, daraja: DarajaClient, receiver: Receiver
) -> None:
    merchant_request_id, checkout_request_id = push(daraja, receiver)
    [received] = receiver.wait_for(1)
    finished = simulator.push(checkout_request_id)
    assert finished is not None
    assert finished.resolved_at is not None
    assert RECEIPT.match(finished.receipt_number)
    assert received.path == "/stk/callback"
    assert received.payload == {
        "Body": {
            "stkCallback": {
                "MerchantRequestID": merchant_request_id,
                "CheckoutRequestID": checkout_request_id,
                "ResultCode": 0,
                "ResultDesc": "The service request is processed successfully.",
                "CallbackMetadata": {
                    "Item": [
                        {"Name": "Amount", "Value": 1500.0},
                        {"Name": "MpesaReceiptNumber", "Value": finished.receipt_number},
                        {"Name": "Balance"},
                        {
                            "Name": "TransactionDate",
                            "Value": int(f"{finished.resolved_at:%Y%m%d%H%M%S}"),
                        },
                        {"Name": "PhoneNumber", "Value": 254708374149},
                    ]
                },
            }
        }
    }
    # Written as Safaricom writes it: a number with two decimals, not a string.
    assert b'{"Name": "Amount", "Value": 1500.00}' in received.body
    assert parse_stk_callback(received.payload) == StkCallback(
        merchant_request_id=merchant_request_id,
        checkout_request_id=checkout_request_id,
        result_code=0,
        result_desc="The service request is processed successfully.",
        amount=Decimal("1500.00"),
        receipt_number=finished.receipt_number,
        transaction_date=finished.resolved_at.replace(microsecond=0),
        phone=PHONE,
    )


@pytest.mark.parametrize(
    ("outcome", "result_code", "result_desc"),
    [
        (Outcome.CANCELLED, 1032, "[STK_CB - ]Request cancelled by user"),
        (Outcome.UNREACHABLE, 1037, "DS timeout user cannot be reached"),
        (Outcome.INSUFFICIENT_FUNDS, 1, "The balance is insufficient for the transaction."),
        (Outcome.WRONG_PIN, 2001, "[MpesaCB - ]The initiator information is invalid."),
        (Outcome.EXPIRED, 1019, "Transaction has expired"),
    ],
)
def test_failure_callback_has_the_code_and_no_metadata(
    simulator: DarajaSimulator,
    daraja: DarajaClient,
    receiver: Receiver,
    outcome: Outcome,
    result_code: int,
    result_desc: str,
) -> None:
    simulator.set_outcome(outcome)
    merchant_request_id, checkout_request_id = push(daraja, receiver)
    [received] = receiver.wait_for(1)
    assert received.payload == {
        "Body": {
            "stkCallback": {
                "MerchantRequestID": merchant_request_id,
                "CheckoutRequestID": checkout_request_id,
                "ResultCode": result_code,
                "ResultDesc": result_desc,
            }
        }
    }
    parsed = parse_stk_callback(received.payload)
    assert (parsed.result_code, parsed.amount, parsed.receipt_number) == (result_code, None, None)


def test_callback_delivered_twice_is_the_same_callback(
    simulator: DarajaSimulator, daraja: DarajaClient, receiver: Receiver
) -> None:
    simulator.set_outcome(Outcome.SUCCESS, delivery=DeliveryMode.TWICE)
    push(daraja, receiver)
    first, second = receiver.wait_for(2)
    assert first.body == second.body
    time.sleep(0.3)
    assert len(receiver.received) == 2


def test_late_callback_arrives_after_the_delay(
    simulator: DarajaSimulator, daraja: DarajaClient, receiver: Receiver
) -> None:
    simulator.set_outcome(Outcome.SUCCESS, delivery=DeliveryMode.LATE, delay_seconds=0.8)
    started = time.monotonic()
    _, checkout_request_id = push(daraja, receiver)
    time.sleep(0.3)
    assert receiver.received == []
    # Safaricom already knows the result: the query answers before the callback comes.
    assert daraja.stk_query(checkout_request_id=checkout_request_id).result_code == "0"
    receiver.wait_for(1, timeout=5)
    assert time.monotonic() - started >= 0.8


def test_outcome_set_for_one_phone_leaves_others_on_the_default(
    simulator: DarajaSimulator, daraja: DarajaClient, receiver: Receiver
) -> None:
    simulator.set_outcome(Outcome.WRONG_PIN, phone_number="0712000111")
    push(daraja, receiver, phone="254712000111")
    push(daraja, receiver)
    received = receiver.wait_for(2)
    codes = {
        parse_stk_callback(r.payload).checkout_request_id[-12:]: parse_stk_callback(
            r.payload
        ).result_code
        for r in received
    }
    assert codes == {"254712000111": 2001, PHONE: 0}


def test_receivers_answer_is_recorded_and_a_failed_delivery_is_not_retried(
    simulator: DarajaSimulator, daraja: DarajaClient, receiver: Receiver
) -> None:
    receiver.answer("/stk/callback", {"error": "boom"}, status=500)
    push(daraja, receiver)
    [delivery] = simulator.wait_for_deliveries(1)
    assert (delivery.kind, delivery.status, delivery.url) == (
        DeliveryKind.STK_CALLBACK,
        500,
        receiver.url("/stk/callback"),
    )
    assert delivery.response == '{"error": "boom"}'
    time.sleep(0.3)
    assert len(receiver.received) == 1


def test_control_endpoints_script_a_phone_list_deliveries_and_reset(
    simulator: DarajaSimulator, daraja: DarajaClient, receiver: Receiver
) -> None:
    control = f"{simulator.base_url}/simulator"
    answer = httpx.post(f"{control}/outcomes", json={"phone": "0708374149", "outcome": "cancelled"})
    assert answer.status_code == 200
    assert answer.json() == {
        "phone": PHONE,
        "outcome": "cancelled",
        "delivery": "once",
        "delay_seconds": 5.0,
    }
    _, checkout_request_id = push(daraja, receiver)
    receiver.wait_for(1)
    simulator.wait_for_deliveries(1)
    [listed] = httpx.get(f"{control}/deliveries").json()["deliveries"]
    assert listed["kind"] == "stk_callback"
    assert listed["url"] == receiver.url("/stk/callback")
    assert listed["status"] == 200
    assert listed["payload"]["Body"]["stkCallback"]["CheckoutRequestID"] == checkout_request_id
    assert listed["payload"]["Body"]["stkCallback"]["ResultCode"] == 1032

    assert httpx.post(f"{control}/reset").status_code == 200
    assert httpx.get(f"{control}/deliveries").json() == {"deliveries": []}
    assert simulator.state.pushes() == []


def test_control_endpoint_refuses_an_unknown_outcome(simulator: DarajaSimulator) -> None:
    answer = httpx.post(f"{simulator.base_url}/simulator/outcomes", json={"outcome": "maybe"})
    assert answer.status_code == 400
    assert "outcome must be one of" in answer.json()["error"]
    assert simulator.state.scripts()[1] == {}


def test_prompt_answered_over_the_control_endpoint(
    simulator: DarajaSimulator, daraja: DarajaClient, receiver: Receiver
) -> None:
    simulator.set_outcome(Outcome.PHONE)
    _, checkout_request_id = push(daraja, receiver)
    answer = httpx.post(
        f"{simulator.base_url}/simulator/prompts/{checkout_request_id}",
        json={"answer": "insufficient_funds"},
    )
    assert answer.json() == {
        "CheckoutRequestID": checkout_request_id,
        "outcome": "insufficient_funds",
    }
    [received] = receiver.wait_for(1)
    assert parse_stk_callback(received.payload).result_code == 1
    again = httpx.post(
        f"{simulator.base_url}/simulator/prompts/{checkout_request_id}", json={"answer": "pay"}
    )
    assert again.status_code == 404


def test_unanswered_phone_prompt_times_out_as_unreachable(
    start_simulator: Callable[..., DarajaSimulator], receiver: Receiver
) -> None:
    simulator = start_simulator(prompt_timeout_seconds=0.3)
    simulator.set_outcome(Outcome.PHONE)
    push(make_client(simulator), receiver)
    [received] = receiver.wait_for(1)
    parsed = parse_stk_callback(received.payload)
    assert (parsed.result_code, parsed.result_desc) == (1037, "DS timeout user cannot be reached")
    assert parsed.transaction_date is None


def test_transaction_date_is_nairobi_time(
    simulator: DarajaSimulator, daraja: DarajaClient, receiver: Receiver
) -> None:
    push(daraja, receiver)
    [received] = receiver.wait_for(1)
    paid_at = parse_stk_callback(received.payload).transaction_date
    assert paid_at is not None
    assert paid_at.utcoffset() == datetime(2026, 1, 1, tzinfo=NAIROBI).utcoffset()
    assert abs((datetime.now(NAIROBI) - paid_at).total_seconds()) < 5
