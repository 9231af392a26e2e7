"""Factories for money rows. Bills and payments are never inserted as rows: they go through
`create_bill` and `record_payment`, so every one has its number, its ledger entries, its
allocations and its receipt, as the money path's invariants require.

Sequences restart at 0 for every test (`kaunti/conftest.py`).
"""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone

from kaunti.core.models import Department
from kaunti.payments.models import Bill, Channel, Payment
from kaunti.payments.services.bills import LineInput, Payer, create_bill
from kaunti.payments.services.recording import record_payment


class PayerFactory(factory.Factory[Payer]):
    """A walk-in payer: a name, a phone and an ID number, no account."""

    class Meta:
        model = Payer

    name = "Wanjiru Njoroge"
    phone = "0712000222"
    id_number = "22334455"


class BillFactory(factory.Factory[Bill]):
    """A trade market-fee bill of `amount` (one line), due in 30 days; or any `lines` given.
    Needs the chart of accounts and the price list (the `price_list` fixture)."""

    class Meta:
        model = Bill

    class Params:
        amount = Decimal("500.00")

    payer = factory.SubFactory(PayerFactory)
    lines = factory.LazyAttribute(
        lambda bill: [LineInput("market-fee", quantity=Decimal(1), unit_price=bill.amount)]
    )
    department = factory.LazyFunction(lambda: Department.objects.get(code="trade"))
    due_on = factory.LazyFunction(lambda: date.today() + timedelta(days=30))
    description = "Market fees"
    actor = None

    @classmethod
    def _create(cls, model_class: type[Bill], *args: Any, **kwargs: Any) -> Bill:
        return create_bill(**kwargs)


class PaymentFactory(factory.Factory[Payment]):
    """An M-Pesa paybill payment of `bill` in full, from the `citizen` fixture's phone, recorded
    through the one entry point every channel uses. `at_counter=True`: cash at the counter.
    A payment to no bill (`bill_number` that matches none) is held in suspense."""

    class Meta:
        model = Payment

    class Params:
        bill: Bill | None = None
        at_counter = factory.Trait(
            provider="counter", channel=Channel.CASH, payer_phone="", mpesa_receipt=""
        )

    provider = "mpesa-c2b"
    external_ref = factory.Sequence(lambda n: f"SKJ7H{n:05d}")
    channel = Channel.MPESA_PAYBILL
    amount = factory.LazyAttribute(lambda payment: payment.bill.total)
    paid_at = factory.LazyFunction(timezone.now)
    bill_number = factory.LazyAttribute(lambda payment: payment.bill.number)
    payer_phone = "254712000111"
    payer_name = ""
    mpesa_receipt = factory.SelfAttribute("external_ref")

    @classmethod
    def _create(cls, model_class: type[Payment], *args: Any, **kwargs: Any) -> Payment:
        return record_payment(**kwargs).payment
