from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings

from kaunti.core.models import Department
from kaunti.ledger.services import load_chart_of_accounts
from kaunti.payments.models import Bill
from kaunti.payments.services.bills import LineInput, Payer, create_bill
from kaunti.payments.services.price_list import load_price_list


@pytest.fixture
def price_list(reference_data: None) -> None:
    load_chart_of_accounts()
    load_price_list(county_code=settings.COUNTY_CODE)


@pytest.fixture
def make_bill(price_list: None) -> Callable[..., Bill]:
    """Raise a market-fee bill for `amount` (quantity x 50) or any lines given."""

    def make(
        amount: Decimal | None = Decimal("500.00"),
        *,
        lines: list[LineInput] | None = None,
        payer: Payer | None = None,
        **kwargs: Any,
    ) -> Bill:
        if lines is None:
            assert amount is not None
            lines = [LineInput("market-fee", quantity=Decimal(1), unit_price=amount)]
        return create_bill(
            payer=payer or Payer(name="Wanjiru Njoroge", phone="0712000222", id_number="22334455"),
            lines=lines,
            department=Department.objects.get(code="trade"),
            due_on=date.today() + timedelta(days=30),
            description="Market fees",
            actor=None,
            **kwargs,
        )

    return make
