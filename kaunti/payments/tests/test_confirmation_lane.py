"""Safaricom's callbacks as the WSGI server hands them to Kaunti (`kaunti.wsgi.application`,
what gunicorn serves): the lane stores and answers paybill confirmations, hands the other
callbacks and the refusals to their views without the browsers' middleware, and leaves
everything else to Django (ADR 8)."""

import io
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit
from wsgiref.util import setup_testing_defaults

import pytest
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import override_settings

from kaunti.payments.models import Bill, BillStatus, CallbackStatus, InboundCallback, Payment
from kaunti.payments.mpesa.outbound import registered_c2b_urls, stk_callback_url
from kaunti.payments.tests.test_mpesa_callbacks import (
    ACCEPTED,
    ACKNOWLEDGED,
    CONFIRMATION,
    INVALID_ACCOUNT,
    VALIDATION,
    c2b_body,
    url,
)
from kaunti.wsgi import application

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    """As Django's test client does: the request signals must not close the connection
    that holds the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def serve(
    path: str,
    body: bytes,
    *,
    method: str = "POST",
    address: str = "196.201.214.200",
    chunked: bool = False,
    input_terminated: bool = True,
    **extra: Any,
) -> tuple[str, dict[str, str], bytes]:
    """One request through the WSGI application, as gunicorn would make it (`chunked`: as
    gunicorn passes a chunked body: no Content-Length, an input that ends with the body;
    `input_terminated` false: as a server whose input does not say where it ends)."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "CONTENT_TYPE": "application/json",
        "REMOTE_ADDR": address,
        "HTTP_HOST": "testserver",
        "wsgi.input": io.BytesIO(body),
    }
    if chunked:
        environ.update(
            HTTP_TRANSFER_ENCODING="chunked", **{"wsgi.input_terminated": input_terminated}
        )
    else:
        environ["CONTENT_LENGTH"] = str(len(body))
    environ.update(extra)
    setup_testing_defaults(environ)
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> None:
        answer["status"], answer["headers"] = status, dict(headers)

    chunks = application(environ, start_response)
    content = b"".join(chunks)
    getattr(chunks, "close", lambda: None)()
    return answer["status"], answer["headers"], content


def test_a_confirmation_is_stored_answered_and_recorded(make_bill: Callable[..., Bill]) -> None:
    bill = make_bill(Decimal("800.00"))

    status, headers, content = serve(
        url(CONFIRMATION),
        c2b_body(bill.number, trans_id="SKL0LANE01", amount="800.00").encode(),
        HTTP_X_REQUEST_ID="safaricom-retry-7",
    )

    assert status == "200 OK"
    assert json.loads(content) == ACKNOWLEDGED
    assert headers["Content-Length"] == str(len(content))
    assert headers["X-Request-ID"] == "safaricom-retry-7"
    callback = InboundCallback.objects.get()
    assert callback.status == CallbackStatus.PROCESSED
    assert callback.remote_addr == "196.201.214.200"
    assert json.loads(callback.body)["TransID"] == "SKL0LANE01"
    payment = Payment.objects.get()
    assert (payment.external_ref, payment.amount) == ("SKL0LANE01", Decimal("800.00"))
    bill.refresh_from_db()
    assert bill.status == BillStatus.PAID


def test_the_registered_paybill_path_takes_the_same_lane(make_bill: Callable[..., Bill]) -> None:
    bill = make_bill(Decimal("300.00"))
    path = f"/payments/paybill/confirmation/{settings.MPESA_CALLBACK_TOKEN}/"

    status, _, content = serve(path, c2b_body(bill.number, amount="300.00").encode())

    assert (status, json.loads(content)) == ("200 OK", ACKNOWLEDGED)
    assert Payment.objects.get().bill == bill


def test_a_malformed_confirmation_is_answered_and_kept_for_review() -> None:
    status, _, content = serve(url(CONFIRMATION), b'{"TransID": "SKL0LANE02", "TransAm')

    assert (status, json.loads(content)) == ("200 OK", ACKNOWLEDGED)
    callback = InboundCallback.objects.get()
    assert callback.status == CallbackStatus.MALFORMED
    assert Payment.objects.count() == 0


def test_a_validation_is_answered_by_its_view_past_the_browser_middleware(
    make_bill: Callable[..., Bill],
) -> None:
    bill = make_bill(Decimal("300.00"))

    status, headers, content = serve(
        url(VALIDATION),
        c2b_body(bill.number, amount="300.00").encode(),
        HTTP_X_REQUEST_ID="safaricom-validation-3",
    )
    unknown_status, _, unknown = serve(url(VALIDATION), c2b_body("ACDEFGHJK").encode())

    assert (status, json.loads(content)) == ("200 OK", ACCEPTED)
    assert (unknown_status, json.loads(unknown)) == ("200 OK", INVALID_ACCOUNT)
    assert headers["Content-Length"] == str(len(content))
    assert headers["X-Request-ID"] == "safaricom-validation-3"
    # Nothing meant for browsers: no policy, cookie or language negotiation.
    assert not {"Content-Security-Policy", "Set-Cookie", "Content-Language"} & set(headers)
    assert InboundCallback.objects.count() == 2


def test_the_urls_registered_with_safaricom_take_the_lane(make_bill: Callable[..., Bill]) -> None:
    bill = make_bill(Decimal("300.00"))
    confirmation, validation = (urlsplit(each).path for each in registered_c2b_urls())
    body = c2b_body(bill.number, amount="300.00").encode()

    validated = serve(validation, body)
    confirmed = serve(confirmation, body)
    stk = serve(urlsplit(stk_callback_url()).path, b'{"Body": {}}')

    assert (validated[0], json.loads(validated[2])) == ("200 OK", ACCEPTED)
    assert "Content-Security-Policy" not in validated[1]
    assert (confirmed[0], json.loads(confirmed[2])) == ("200 OK", ACKNOWLEDGED)
    assert (stk[0], json.loads(stk[2])) == ("200 OK", ACKNOWLEDGED)
    assert "Content-Security-Policy" not in stk[1]
    assert Payment.objects.get().bill == bill


def test_a_view_that_fails_is_answered_500_as_django_would(
    make_bill: Callable[..., Bill], monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(**_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("kaunti.payments.mpesa.c2b.validate_c2b", fail)

    status, headers, _ = serve(url(VALIDATION), c2b_body(make_bill().number).encode())

    assert status == "500 Internal Server Error"
    assert headers["X-Request-ID"]


def test_a_wrong_token_is_refused_by_the_view_and_nothing_is_stored(
    make_bill: Callable[..., Bill],
) -> None:
    bill = make_bill()

    status, _, _ = serve(url(CONFIRMATION, "not-the-token"), c2b_body(bill.number).encode())

    assert status.startswith("404")
    assert InboundCallback.objects.count() == 0
    assert Payment.objects.count() == 0


@override_settings(MPESA_ALLOWED_IPS=["196.201.214.200"])
def test_a_foreign_address_is_refused_and_kept_for_review(make_bill: Callable[..., Bill]) -> None:
    bill = make_bill()

    status, _, _ = serve(url(CONFIRMATION), c2b_body(bill.number).encode(), address="10.9.8.7")

    assert status.startswith("403")
    callback = InboundCallback.objects.get()
    assert (callback.status, callback.remote_addr) == (CallbackStatus.REVIEW, "10.9.8.7")
    assert Payment.objects.count() == 0


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=200)
def test_an_oversized_confirmation_goes_to_its_view_and_is_refused() -> None:
    status, _, _ = serve(url(CONFIRMATION), c2b_body("ABCD2345").encode() + b" " * 300)

    assert status.startswith("400")
    assert InboundCallback.objects.count() == 0


def test_other_requests_go_through_django() -> None:
    status, headers, _ = serve("/healthz", b"", method="GET")
    assert status == "200 OK"
    assert "Content-Security-Policy" in headers

    get_status, get_headers, _ = serve(url(CONFIRMATION), b"", method="GET")
    assert get_status.startswith("405")
    assert "Content-Security-Policy" in get_headers

    # A path beside the callbacks that is not one of them goes through the whole stack.
    other, other_headers, _ = serve(
        f"/payments/mpesa/not-a-callback/{settings.MPESA_CALLBACK_TOKEN}/", b"{}"
    )
    assert other.startswith("404")
    assert "Content-Security-Policy" in other_headers
    assert InboundCallback.objects.count() == 0


def test_a_chunked_confirmation_is_read_whole_stored_and_recorded(
    make_bill: Callable[..., Bill],
) -> None:
    bill = make_bill(Decimal("800.00"))
    body = c2b_body(bill.number, trans_id="SKL0LANE03", amount="800.00").encode()

    status, _, content = serve(url(CONFIRMATION), body, chunked=True)

    assert (status, json.loads(content)) == ("200 OK", ACKNOWLEDGED)
    callback = InboundCallback.objects.get()
    assert (callback.body, callback.status) == (body.decode(), CallbackStatus.PROCESSED)
    assert Payment.objects.get().amount == Decimal("800.00")


def test_a_chunked_stk_callback_reaches_its_view_with_its_body() -> None:
    body = b'{"Body": {"stkCallback": {"CheckoutRequestID": "ws_CO_1"}}}'

    status, _, content = serve(
        f"/payments/mpesa/stk/callback/{settings.MPESA_CALLBACK_TOKEN}/", body, chunked=True
    )

    assert (status, json.loads(content)) == ("200 OK", ACKNOWLEDGED)
    assert InboundCallback.objects.get().body == body.decode()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=200)
def test_an_oversized_chunked_confirmation_is_refused() -> None:
    status, _, _ = serve(
        url(CONFIRMATION), c2b_body("ABCD2345").encode() + b" " * 300, chunked=True
    )

    assert status.startswith("400")
    assert InboundCallback.objects.count() == 0


def test_a_chunked_confirmation_whose_end_is_unknown_is_refused_for_a_retry() -> None:
    status, _, content = serve(
        url(CONFIRMATION),
        c2b_body("ABCD2345").encode(),
        chunked=True,
        input_terminated=False,
    )

    assert status == "411 Length Required"
    assert json.loads(content) == {"ResultCode": 1, "ResultDesc": "Send a Content-Length"}
    assert InboundCallback.objects.count() == 0


def test_an_empty_confirmation_is_refused_not_acknowledged() -> None:
    status, _, content = serve(url(CONFIRMATION), b"")

    assert status.startswith("400")
    assert json.loads(content) == {"ResultCode": 1, "ResultDesc": "Empty body"}
    assert InboundCallback.objects.count() == 0


def test_a_confirmation_with_a_nul_byte_is_stored_raw_and_answered(
    make_bill: Callable[..., Bill],
) -> None:
    bill = make_bill(Decimal("800.00"))
    body = c2b_body(bill.number, amount="800.00").encode().replace(b"John", b"Jo\x00hn")

    status, _, content = serve(url(CONFIRMATION), body)

    assert (status, json.loads(content)) == ("200 OK", ACKNOWLEDGED)
    callback = InboundCallback.objects.get()
    assert (callback.status, callback.error) == (
        CallbackStatus.MALFORMED,
        "the body contains a NUL byte",
    )
    assert bytes(callback.raw_body or b"") == body
    assert Payment.objects.count() == 0


@pytest.mark.parametrize("amount", ["\uff11\uff10\uff10", "\u0663\u0660\u0660"])
def test_a_confirmation_in_other_digits_records_nothing(
    make_bill: Callable[..., Bill], amount: str
) -> None:
    bill = make_bill(Decimal("300.00"))

    status, _, _ = serve(url(CONFIRMATION), c2b_body(bill.number, amount=amount).encode())

    assert status == "200 OK"
    assert InboundCallback.objects.get().status == CallbackStatus.MALFORMED
    assert Payment.objects.count() == 0


def test_a_confirmation_over_mpesa_limit_is_kept_for_review(
    make_bill: Callable[..., Bill],
) -> None:
    bill = make_bill(Decimal("12000.00"))

    status, _, _ = serve(
        url(CONFIRMATION), c2b_body(bill.number, amount="999999999999.99").encode()
    )

    assert status == "200 OK"
    assert InboundCallback.objects.get().status == CallbackStatus.REVIEW
    assert Payment.objects.count() == 0
    bill.refresh_from_db()
    assert bill.paid == Decimal("0.00")
