"""Fixtures of the USSD tests: the county's data, bills, and a phone that dials in."""

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from kaunti.eservices.tests.conftest import (  # noqa: F401  (fixtures, used by name)
    catalogue,
    draft_ubp,
    media_root,
    ubp,
)
from kaunti.payments.models import Bill
from kaunti.payments.tests.factories import BillFactory
from kaunti.simulators.africastalking import AfricasTalkingSimulator, ussd_form

USSD_URL = "/ussd/africastalking/"
PHONE = "0712000333"
MSISDN = "254712000333"
_session_numbers = itertools.count(1)


@dataclass
class Phone:
    """A handset in a USSD session: each `press` sends everything typed so far, "*"-joined,
    as Africa's Talking does, and returns the screen."""

    client: Client
    number: str = PHONE
    session_id: str = ""
    inputs: list[str] = field(default_factory=list)
    screens: list[str] = field(default_factory=list)

    def dial(self) -> str:
        self.session_id = f"ATUid_test_{next(_session_numbers)}"
        self.inputs = []
        return self._post()

    def press(self, answer: str, *, client: Client | None = None) -> str:
        self.inputs.append(answer)
        return self._post(client=client)

    def resend(self) -> str:
        """The gateway sends the same step again (a retry after a slow answer)."""
        return self._post()

    @property
    def text(self) -> str:
        return "*".join(self.inputs)

    def _post(self, *, client: Client | None = None) -> str:
        response = (client or self.client).post(
            USSD_URL,
            ussd_form(session_id=self.session_id, phone_number=self.number, text=self.text),
        )
        assert response.status_code == 200, response.content[:300]
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        screen = response.content.decode()
        assert screen.startswith(("CON ", "END ")), screen
        assert len(screen) <= 182, (len(screen), screen)
        self.screens.append(screen)
        return screen


@pytest.fixture
def phone(reference_data: None, client: Client) -> Phone:
    return Phone(client)


@pytest.fixture
def county(catalogue: None) -> None:  # noqa: F811
    """Reference data, chart of accounts, price list and the e-services catalogue."""


@pytest.fixture
def make_bill(county: None) -> Callable[..., Bill]:
    """`BillFactory` for KES 1,500 once the county is loaded; its payer named as given."""

    def make(
        amount: Decimal = Decimal("1500.00"),
        *,
        payer_name: str = "Wanjiru Njoroge",
        payer_phone: str = "0712000222",
        **fields: Any,
    ) -> Bill:
        return BillFactory.create(
            amount=amount, payer__name=payer_name, payer__phone=payer_phone, **fields
        )

    return make


AT_USERNAME = "kaunti018"
AT_API_KEY = "test-africastalking-key"


@pytest.fixture
def at_gateway(settings: Any) -> Iterator[AfricasTalkingSimulator]:
    """The outbox sends SMS through the real Africa's Talking backend to the simulator."""
    with AfricasTalkingSimulator(username=AT_USERNAME, api_key=AT_API_KEY) as gateway:
        settings.SMS_BACKEND = "africastalking"
        settings.AFRICASTALKING_USERNAME = AT_USERNAME
        settings.AFRICASTALKING_API_KEY = AT_API_KEY
        settings.AFRICASTALKING_BASE_URL = gateway.base_url
        settings.SMS_SENDER_ID = ""
        yield gateway
