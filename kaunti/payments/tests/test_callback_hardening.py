"""Callbacks built to hurt (issue 13): amounts outside M-Pesa's limits or in other digits,
STK callbacks that cannot be recorded, NUL bytes, chunked and empty bodies, and nesting
deeper than any real payload. Each is stored, answered as Safaricom expects, and ends in a
state an officer can review; none is recorded as money."""

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from kaunti.core.models import AuditEvent
from kaunti.payments.models import (
    Bill,
    BillStatus,
    CallbackStatus,
    InboundCallback,
    Payment,
    StkRequest,
    StkStatus,
)
from kaunti.payments.mpesa import stk_callbacks
from kaunti.payments.mpesa.c2b import (
    C2B_CONFIRMATION,
    process_c2b_confirmations,
)
from kaunti.payments.mpesa.outbound import resolve_pending_stk_requests
from kaunti.payments.mpesa.stk_callbacks import sweep_stk_callbacks
from kaunti.payments.services.callback_store import MAX_CALLBACK_DEPTH, store_callback
from kaunti.payments.tests.test_mpesa_callbacks import (
    ACKNOWLEDGED,
    CONFIRMATION,
    INVALID_AMOUNT,
    STK_CALLBACK,
    VALIDATION,
    MakeBill,
    c2b_body,
    post,
    state,
    url,
)

pytestmark = pytest.mark.django_db


def stk_body(
    checkout_request_id: str, *, amount: object = 1500, receipt: str = "TKR3X9PLQM"
) -> str:
    """An STK success callback with the amount and receipt number given."""
    return json.dumps(
        {
            "Body": {
                "stkCallback": {
                    "MerchantRequestID": "29115-34620561-1",
                    "CheckoutRequestID": checkout_request_id,
                    "ResultCode": 0,
                    "ResultDesc": "The service request is processed successfully.",
                    "CallbackMetadata": {
                        "Item": [
                            {"Name": "Amount", "Value": amount},
                            {"Name": "MpesaReceiptNumber", "Value": receipt},
                            {"Name": "TransactionDate", "Value": 20261122102115},
                            {"Name": "PhoneNumber", "Value": 254712000222},
                        ]
                    },
                }
            }
        }
    )


def nested(depth: int) -> bytes:
    return b'{"Body": ' + b"[" * depth + b"]" * depth + b"}"


# --- M-Pesa's limits --------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["0.50", "250000.01", "999999999999.99"])
def test_validation_refuses_an_amount_outside_mpesa_limits_as_an_invalid_amount(
    client: Client, make_bill: MakeBill, amount: str
) -> None:
    bill = make_bill(Decimal("12000.00"))

    response = post(client, url(VALIDATION), c2b_body(bill.number, amount=amount))

    assert response.json() == INVALID_AMOUNT
    callback = InboundCallback.objects.get()
    assert callback.status == CallbackStatus.REVIEW
    assert callback.error == (f"TransAmount {amount} is outside M-Pesa's limits of KES 1 to 250000")
    assert Payment.objects.count() == 0


@pytest.mark.parametrize("amount", ["0.50", "250000.01", "999999999999.99"])
def test_a_confirmation_outside_mpesa_limits_is_kept_for_review_and_records_nothing(
    client: Client, make_bill: MakeBill, amount: str
) -> None:
    bill = make_bill(Decimal("12000.00"))
    before = state()

    response = post(client, url(CONFIRMATION), c2b_body(bill.number, amount=amount))

    assert (response.status_code, response.json()) == (200, ACKNOWLEDGED)
    callback = InboundCallback.objects.get()
    assert (callback.status, callback.error) == (
        CallbackStatus.REVIEW,
        f"TransAmount {amount} is outside M-Pesa's limits of KES 1 to 250000",
    )
    assert state()[:3] == before[:3]
    bill.refresh_from_db()
    assert (bill.status, bill.paid) == (BillStatus.OPEN, Decimal("0.00"))


def test_a_confirmation_at_mpesa_limit_is_recorded(client: Client, make_bill: MakeBill) -> None:
    bill = make_bill(Decimal("250000.00"))

    response = post(client, url(CONFIRMATION), c2b_body(bill.number, amount="250000.00"))

    assert response.json() == ACKNOWLEDGED
    assert Payment.objects.get().amount == Decimal("250000.00")


@pytest.mark.parametrize("amount", ["\uff11\uff10\uff10", "\u0663\u0660\u0660", "1\u066500.00"])
def test_a_confirmation_in_other_digits_is_kept_and_records_nothing(
    client: Client, make_bill: MakeBill, amount: str
) -> None:
    bill = make_bill(Decimal("300.00"))

    response = post(client, url(CONFIRMATION), c2b_body(bill.number, amount=amount))

    assert response.json() == ACKNOWLEDGED
    callback = InboundCallback.objects.get()
    assert callback.status == CallbackStatus.MALFORMED
    assert callback.error.startswith("TransAmount is not a number")
    assert Payment.objects.count() == 0


def test_an_stk_amount_other_than_the_prompts_goes_to_review_and_is_not_recorded(
    client: Client, pending_stk: StkRequest
) -> None:
    before = state()

    response = post(
        client, url(STK_CALLBACK), stk_body(pending_stk.checkout_request_id or "", amount=1)
    )

    assert response.json() == ACKNOWLEDGED
    callback = InboundCallback.objects.get()
    assert (callback.status, callback.error) == (
        CallbackStatus.REVIEW,
        "Amount 1.00 does not match the prompt's KES 1500",
    )
    pending_stk.refresh_from_db()
    assert (pending_stk.status, pending_stk.result_desc) == (
        StkStatus.REVIEW,
        "Amount 1.00 does not match the prompt's KES 1500",
    )
    assert state()[:3] == before[:3]
    held = AuditEvent.objects.get(action="payments.stk_held_for_review")
    assert held.data["reason"] == "Amount 1.00 does not match the prompt's KES 1500"
    # The periodic query leaves it to the officer: it would record the prompt's KES 1500.
    assert resolve_pending_stk_requests(older_than_seconds=0) == 0
    assert Payment.objects.count() == 0


# --- STK callbacks that cannot be recorded ----------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"amount": 0}, "Amount 0.00 is outside M-Pesa's limits of KES 1 to 250000"),
        (
            {"receipt": "TKR3X9PLQM" * 3},
            "MpesaReceiptNumber is not 10 characters of A-Z and 0-9: 'TKR3X9PLQMTKR3X9PLQMTKR3X9PLQM'",
        ),
    ],
)
def test_an_stk_success_that_cannot_be_money_is_answered_and_kept_for_review(
    client: Client, pending_stk: StkRequest, changes: dict[str, Any], error: str
) -> None:
    before = state()

    response = post(
        client, url(STK_CALLBACK), stk_body(pending_stk.checkout_request_id or "", **changes)
    )

    assert (response.status_code, response.json()) == (200, ACKNOWLEDGED)
    callback = InboundCallback.objects.get()
    assert (callback.status, callback.error, callback.reference) == (
        CallbackStatus.REVIEW,
        error,
        pending_stk.checkout_request_id,
    )
    pending_stk.refresh_from_db()
    assert pending_stk.status == StkStatus.REVIEW
    assert AuditEvent.objects.filter(action="payments.stk_held_for_review").count() == 1
    assert state()[:3] == before[:3]


def test_an_stk_callback_nested_100000_deep_is_answered_and_kept_as_malformed(
    client: Client, pending_stk: StkRequest
) -> None:
    body = nested(100_000)

    response = post(client, url(STK_CALLBACK), body)

    assert (response.status_code, response.json()) == (200, ACKNOWLEDGED)
    callback = InboundCallback.objects.get()
    assert (callback.status, callback.error) == (
        CallbackStatus.MALFORMED,
        f"the body is nested more than {MAX_CALLBACK_DEPTH} levels deep",
    )
    assert callback.body.encode() == body
    pending_stk.refresh_from_db()
    assert pending_stk.status == StkStatus.PENDING
    assert Payment.objects.count() == 0


def test_brackets_inside_strings_are_not_nesting(client: Client, pending_stk: StkRequest) -> None:
    body = json.loads(stk_body(pending_stk.checkout_request_id or ""))
    body["Body"]["stkCallback"]["ResultDesc"] = "[{" * 100

    response = post(client, url(STK_CALLBACK), json.dumps(body))

    assert response.json() == ACKNOWLEDGED
    assert InboundCallback.objects.get().status == CallbackStatus.PROCESSED
    assert Payment.objects.get().amount == Decimal("1500.00")


def test_the_sweep_applies_an_stk_callback_left_unapplied(pending_stk: StkRequest) -> None:
    callback = store_callback(
        kind="mpesa_stk",
        body=stk_body(pending_stk.checkout_request_id or "").encode(),
        remote_addr="196.201.214.200",
    )
    InboundCallback.objects.filter(pk=callback.pk).update(
        received_at=timezone.now() - timedelta(minutes=2)
    )

    assert sweep_stk_callbacks() == 1

    callback.refresh_from_db()
    assert callback.status == CallbackStatus.PROCESSED
    pending_stk.refresh_from_db()
    assert pending_stk.status == StkStatus.PAID
    assert Payment.objects.get().amount == Decimal("1500.00")


def test_the_sweep_leaves_a_fresh_callback_to_its_own_retry(pending_stk: StkRequest) -> None:
    store_callback(
        kind="mpesa_stk",
        body=stk_body(pending_stk.checkout_request_id or "").encode(),
        remote_addr="196.201.214.200",
    )

    assert sweep_stk_callbacks() == 0
    assert InboundCallback.objects.get().status == CallbackStatus.RECEIVED


def test_the_sweep_sets_aside_a_callback_whose_prompt_never_appears(make_bill: MakeBill) -> None:
    callback = store_callback(
        kind="mpesa_stk", body=stk_body("ws_CO_NEVER_SENT").encode(), remote_addr="196.201.214.200"
    )
    InboundCallback.objects.filter(pk=callback.pk).update(
        status=CallbackStatus.WAITING,
        attempts=stk_callbacks.MAX_CALLBACK_WAITS - 1,
        received_at=timezone.now() - timedelta(minutes=10),
    )

    assert sweep_stk_callbacks() == 1

    callback.refresh_from_db()
    assert (callback.status, callback.error) == (
        CallbackStatus.REVIEW,
        "no STK request with this CheckoutRequestID",
    )
    assert Payment.objects.count() == 0


def test_the_stk_sweep_runs_on_the_beat_schedule() -> None:
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "kaunti.payments.tasks.retry_stored_stk_callbacks" in tasks


# --- NUL bytes and other bytes text cannot hold -----------------------------------------------


def test_an_stk_callback_with_a_nul_byte_is_stored_raw_and_answered(
    client: Client, pending_stk: StkRequest
) -> None:
    body = stk_body(pending_stk.checkout_request_id or "").encode().replace(b"The", b"T\x00he")

    response = post(client, url(STK_CALLBACK), body)

    assert (response.status_code, response.json()) == (200, ACKNOWLEDGED)
    callback = InboundCallback.objects.get()
    assert (callback.status, callback.error) == (
        CallbackStatus.MALFORMED,
        "the body contains a NUL byte",
    )
    assert bytes(callback.raw_body or b"") == body
    assert "\x00" not in callback.body
    assert Payment.objects.count() == 0


def test_an_escaped_nul_in_a_value_is_malformed_not_a_database_error(
    client: Client, make_bill: MakeBill
) -> None:
    bill = make_bill(Decimal("1500.00"))
    body = c2b_body(bill.number).replace('"John"', '"Jo\\u0000hn"')

    response = post(client, url(CONFIRMATION), body)

    assert response.json() == ACKNOWLEDGED
    callback = InboundCallback.objects.get()
    assert (callback.status, callback.error) == (
        CallbackStatus.MALFORMED,
        "a value holds a NUL character or a lone surrogate",
    )
    assert callback.body == body
    assert Payment.objects.count() == 0


def test_a_body_that_is_not_utf8_keeps_its_bytes_and_is_recorded(
    client: Client, make_bill: MakeBill
) -> None:
    bill = make_bill(Decimal("1500.00"))
    latin = c2b_body(bill.number).encode().replace(b'"Doe"', '"Wanjir\u00e9"'.encode("latin-1"))

    response = post(client, url(CONFIRMATION), latin)

    assert response.json() == ACKNOWLEDGED
    callback = InboundCallback.objects.get()
    assert (callback.status, bytes(callback.raw_body or b"")) == (CallbackStatus.PROCESSED, latin)
    assert Payment.objects.get().payer_name == "John Wanjir\ufffd"


def test_a_callback_whose_text_is_exact_keeps_no_second_copy(
    client: Client, make_bill: MakeBill
) -> None:
    bill = make_bill(Decimal("1500.00"))

    post(client, url(CONFIRMATION), c2b_body(bill.number))

    assert InboundCallback.objects.get().raw_body is None


# --- Empty bodies -----------------------------------------------------------------------------


@pytest.mark.parametrize("template", [STK_CALLBACK, VALIDATION, CONFIRMATION])
def test_an_empty_callback_is_refused_so_that_safaricom_sends_it_again(
    client: Client, template: str
) -> None:
    response = post(client, url(template), b"")

    assert (response.status_code, response.json()) == (
        400,
        {"ResultCode": 1, "ResultDesc": "Empty body"},
    )
    assert InboundCallback.objects.count() == 0


# --- What the drain meets -----------------------------------------------------------------------


def test_a_deeply_nested_confirmation_does_not_fail_its_batch(make_bill: MakeBill) -> None:
    bills = [make_bill(Decimal("100.00")) for _ in range(2)]
    stored = [
        store_callback(
            kind=C2B_CONFIRMATION,
            body=c2b_body(bills[0].number, trans_id="SKD0000001", amount="100.00").encode(),
            remote_addr="196.201.214.200",
        ),
        store_callback(kind=C2B_CONFIRMATION, body=nested(5_000), remote_addr="196.201.214.200"),
        store_callback(
            kind=C2B_CONFIRMATION,
            body=c2b_body(bills[1].number, trans_id="SKD0000002", amount="100.00").encode(),
            remote_addr="196.201.214.200",
        ),
    ]

    assert process_c2b_confirmations() == 2

    statuses = [InboundCallback.objects.get(pk=callback.pk).status for callback in stored]
    assert statuses == [
        CallbackStatus.PROCESSED,
        CallbackStatus.MALFORMED,
        CallbackStatus.PROCESSED,
    ]
    assert sorted(Payment.objects.values_list("external_ref", flat=True)) == [
        "SKD0000001",
        "SKD0000002",
    ]
    assert {bill.status for bill in Bill.objects.all()} == {BillStatus.PAID}


def test_an_unreadable_org_account_balance_does_not_hold_up_the_payment(
    client: Client, make_bill: MakeBill
) -> None:
    bill = make_bill(Decimal("1500.00"))

    response = post(client, url(CONFIRMATION), c2b_body(bill.number, balance="lots"))

    assert response.json() == ACKNOWLEDGED
    assert InboundCallback.objects.get().status == CallbackStatus.PROCESSED
    assert Payment.objects.get().amount == Decimal("1500.00")
