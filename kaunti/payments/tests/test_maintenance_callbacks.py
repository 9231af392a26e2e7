"""Safaricom's callbacks during an upgrade's maintenance mode (ADR 22): stored and
answered as always, through the WSGI lane gunicorn serves and through Django's middleware
alike, while every page answers 503."""

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from kaunti.core import maintenance
from kaunti.payments.models import Bill, BillStatus, CallbackStatus, InboundCallback, Payment
from kaunti.payments.tests.test_confirmation_lane import _keep_the_test_connection, serve
from kaunti.payments.tests.test_mpesa_callbacks import (
    ACCEPTED,
    ACKNOWLEDGED,
    CONFIRMATION,
    VALIDATION,
    c2b_body,
    url,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_keep_the_test_connection")]

__all__ = ["_keep_the_test_connection"]


@pytest.fixture(autouse=True)
def _in_maintenance(tmp_path: Path, settings: Any) -> None:
    settings.MAINTENANCE_FLAG_FILE = str(tmp_path / "maintenance.json")
    maintenance.switch_on(reason="upgrade to v0.16", by="operator")


def test_a_confirmation_through_the_lane_is_stored_and_recorded(
    make_bill: Callable[..., Bill],
) -> None:
    bill = make_bill(Decimal("800.00"))

    status, _, content = serve(
        url(CONFIRMATION), c2b_body(bill.number, trans_id="SKL0MAINT1", amount="800.00").encode()
    )
    page_status, page_headers, _ = serve("/", b"", method="GET")

    assert (status, json.loads(content)) == ("200 OK", ACKNOWLEDGED)
    assert InboundCallback.objects.get().status == CallbackStatus.PROCESSED
    assert Payment.objects.get().external_ref == "SKL0MAINT1"
    bill.refresh_from_db()
    assert bill.status == BillStatus.PAID
    assert (page_status, page_headers["Retry-After"]) == ("503 Service Unavailable", "600")


def test_callbacks_through_django_middleware_are_stored_too(
    client: Client, make_bill: Callable[..., Bill]
) -> None:
    bill = make_bill(Decimal("300.00"))
    body = c2b_body(bill.number, trans_id="SKL0MAINT2", amount="300.00")

    validation = client.post(
        url(VALIDATION), body, content_type="application/json", REMOTE_ADDR="196.201.214.200"
    )
    confirmation = client.post(
        url(CONFIRMATION), body, content_type="application/json", REMOTE_ADDR="196.201.214.200"
    )

    assert (validation.status_code, validation.json()) == (200, ACCEPTED)
    assert (confirmation.status_code, confirmation.json()) == (200, ACKNOWLEDGED)
    assert InboundCallback.objects.count() == 2
    assert Payment.objects.get().external_ref == "SKL0MAINT2"
    assert client.get("/").status_code == 503
