from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings

from kaunti.ledger.services import load_chart_of_accounts
from kaunti.payments.models import Bill, StkRequest, StkStatus
from kaunti.payments.mpesa.outbound import send_stk_push
from kaunti.payments.mpesa.stk import request_stk_push
from kaunti.payments.services.price_list import load_price_list
from kaunti.payments.tests.factories import BillFactory
from kaunti.simulators.daraja import (
    DarajaSimulator,
    DeliveryMode,
    Outcome,
    Script,
    SimulatorConfig,
)


@pytest.fixture
def price_list(reference_data: None) -> None:
    load_chart_of_accounts()
    load_price_list(county_code=settings.COUNTY_CODE)


@pytest.fixture
def make_bill(price_list: None) -> Callable[..., Bill]:
    """`BillFactory` once the price list is loaded: `make_bill(amount)`, or any lines given."""

    def make(amount: Decimal = Decimal("500.00"), **fields: Any) -> Bill:
        return BillFactory.create(amount=amount, **fields)

    return make


@pytest.fixture
def simulator(settings: Any) -> Iterator[DarajaSimulator]:
    """A local Daraja that accepts pushes but never calls back: the tests post the callbacks."""
    simulator = DarajaSimulator(
        SimulatorConfig(
            consumer_key=settings.MPESA_CONSUMER_KEY,
            consumer_secret=settings.MPESA_CONSUMER_SECRET,
            shortcode=settings.MPESA_SHORTCODE,
            passkey=settings.MPESA_PASSKEY,
            script=Script(outcome=Outcome.SUCCESS, delivery=DeliveryMode.NEVER),
        )
    ).start()
    settings.MPESA_BASE_URL = simulator.base_url
    settings.MPESA_CALLBACK_BASE_URL = "https://kaunti.example"
    yield simulator
    simulator.stop()


@pytest.fixture
def pending_stk(make_bill: Callable[..., Bill], simulator: DarajaSimulator) -> StkRequest:
    """A prompt Daraja accepted, whose callback has not come yet."""
    bill = make_bill(Decimal("1500.00"))
    stk = request_stk_push(bill=bill, phone="0712000222", actor=None)
    sent = send_stk_push(public_id=stk.public_id)
    assert sent.status == StkStatus.PENDING
    return sent
