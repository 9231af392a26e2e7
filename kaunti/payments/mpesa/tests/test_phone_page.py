"""The simulator's phone page: a person answers prompts and pays bills in a browser."""

import re
from collections.abc import Callable
from decimal import Decimal

import httpx
import pytest

from kaunti.payments.mpesa.callbacks import parse_c2b, parse_stk_callback
from kaunti.payments.mpesa.client import DarajaClient
from kaunti.payments.mpesa.tests.conftest import PHONE, Receiver, make_client
from kaunti.simulators.daraja import DarajaSimulator, Outcome


def push_to_phone(simulator: DarajaSimulator, client: DarajaClient, receiver: Receiver) -> str:
    simulator.set_outcome(Outcome.PHONE)
    return client.stk_push(
        phone=PHONE,
        amount=1500,
        account_reference="BILL123",
        description="Permit",
        callback_url=receiver.url("/stk/callback"),
    ).checkout_request_id


def test_page_lists_the_pending_prompt_with_plain_html(
    simulator: DarajaSimulator, daraja: DarajaClient, receiver: Receiver
) -> None:
    checkout_request_id = push_to_phone(simulator, daraja, receiver)
    page = httpx.get(simulator.phone_url(PHONE))
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    html = page.text
    assert "Pay KES 1,500 to 174379 account BILL123?" in html
    assert f'action="/phone/{PHONE}/prompts/{checkout_request_id}/"' in html
    for value, label in [
        ("pay", "Enter PIN and pay"),
        ("cancel", "Cancel"),
        ("wrong_pin", "Wrong PIN"),
        ("insufficient_funds", "Insufficient funds"),
    ]:
        assert f'<button type="submit" name="answer" value="{value}">{label}</button>' in html
    assert f'<a href="/phone/{PHONE}/">Refresh</a>' in html
    assert not re.search(r"<script|<style|\sstyle=|\son[a-z]+=", html, re.IGNORECASE)


@pytest.mark.parametrize(
    ("answer", "result_code"),
    [("pay", 0), ("cancel", 1032), ("wrong_pin", 2001), ("insufficient_funds", 1)],
)
def test_answering_on_the_page_sends_the_callback(
    simulator: DarajaSimulator,
    daraja: DarajaClient,
    receiver: Receiver,
    answer: str,
    result_code: int,
) -> None:
    checkout_request_id = push_to_phone(simulator, daraja, receiver)
    response = httpx.post(
        f"{simulator.phone_url(PHONE)}prompts/{checkout_request_id}/", data={"answer": answer}
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/phone/{PHONE}/"
    [received] = receiver.wait_for(1)
    parsed = parse_stk_callback(received.payload)
    assert (parsed.checkout_request_id, parsed.result_code) == (checkout_request_id, result_code)
    html = httpx.get(simulator.phone_url(PHONE)).text
    assert "No prompts." in html
    if result_code == 0:
        assert f"{parsed.receipt_number} Confirmed. Ksh1,500.00 sent to 174379" in html


def test_a_prompt_is_answered_once(
    simulator: DarajaSimulator, daraja: DarajaClient, receiver: Receiver
) -> None:
    checkout_request_id = push_to_phone(simulator, daraja, receiver)
    url = f"{simulator.phone_url(PHONE)}prompts/{checkout_request_id}/"
    httpx.post(url, data={"answer": "pay"})
    httpx.post(url, data={"answer": "cancel"})
    receiver.wait_for(1)
    finished = simulator.push(checkout_request_id)
    assert finished is not None
    assert finished.result_code == 0
    assert len(simulator.wait_for_deliveries(1)) == 1


def test_a_prompt_for_another_phone_is_not_answered(
    simulator: DarajaSimulator, daraja: DarajaClient, receiver: Receiver
) -> None:
    checkout_request_id = push_to_phone(simulator, daraja, receiver)
    response = httpx.post(
        f"{simulator.phone_url('0712000111')}prompts/{checkout_request_id}/",
        data={"answer": "pay"},
    )
    assert response.status_code == 400
    finished = simulator.push(checkout_request_id)
    assert finished is not None
    assert finished.is_pending


def test_paybill_form_runs_the_c2b_flow(
    start_simulator: Callable[..., DarajaSimulator], receiver: Receiver
) -> None:
    simulator = start_simulator(validation=True)
    make_client(simulator).register_c2b_urls(
        confirmation_url=receiver.url("/c2b/confirm"),
        validation_url=receiver.url("/c2b/validate"),
    )
    page = httpx.get(simulator.phone_url(PHONE)).text
    assert 'name="shortcode" inputmode="numeric" value="174379"' in page
    response = httpx.post(
        f"{simulator.phone_url(PHONE)}paybill/",
        data={"shortcode": "174379", "account": "bill123", "amount": "750"},
    )
    assert response.status_code == 303
    validation, confirmation = receiver.received
    assert (validation.path, confirmation.path) == ("/c2b/validate", "/c2b/confirm")
    payment = parse_c2b(confirmation.payload)
    assert (payment.bill_ref_number, payment.amount) == ("BILL123", Decimal("750.00"))
    html = httpx.get(simulator.phone_url(PHONE)).text
    assert f"{payment.trans_id} Confirmed. Ksh750.00 sent to 174379 for account bill123" in html


@pytest.mark.parametrize("amount", ["", "0", "12.50", "abc"])
def test_paybill_form_refuses_an_amount_that_is_not_whole_shillings(
    simulator: DarajaSimulator, daraja: DarajaClient, receiver: Receiver, amount: str
) -> None:
    daraja.register_c2b_urls(
        confirmation_url=receiver.url("/c2b/confirm"), validation_url=receiver.url("/c2b/validate")
    )
    response = httpx.post(
        f"{simulator.phone_url(PHONE)}paybill/",
        data={"shortcode": "174379", "account": "BILL123", "amount": amount},
    )
    assert response.status_code == 400
    assert simulator.deliveries() == []


def test_any_way_of_writing_the_number_reaches_the_canonical_page(
    simulator: DarajaSimulator,
) -> None:
    response = httpx.get(f"{simulator.base_url}/phone/0708374149/")
    assert (response.status_code, response.headers["location"]) == (303, f"/phone/{PHONE}/")
    response = httpx.get(f"{simulator.base_url}/phone/", params={"number": "+254 708 374 149"})
    assert (response.status_code, response.headers["location"]) == (303, f"/phone/{PHONE}/")
