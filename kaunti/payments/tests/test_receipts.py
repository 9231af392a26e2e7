"""The receipt PDF: a real PDF, naming the receipt, with the verification link and QR code,
and stamped when the receipt is cancelled."""

import base64
import re
import zlib
from collections.abc import Callable
from decimal import Decimal

import pytest

from kaunti.accounts.models import User
from kaunti.core.models import Department
from kaunti.core.services.documents import verification_url
from kaunti.payments.models import Bill, Receipt
from kaunti.payments.services.counter import (
    new_form_token,
    open_till,
    receive_counter_payment,
)
from kaunti.payments.services.receipt_cancellation import cancel_receipt
from kaunti.payments.services.receipts import render_receipt_pdf
from kaunti.payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db

_STREAM = re.compile(
    rb"/Filter\s*\[?\s*([^>]*?)\]?\s*/Length \d+\s*>>\s*stream\r?\n(.*?)endstream", re.S
)


def pdf_text(pdf: bytes) -> str:
    """The page's drawing operators, decoded (ReportLab writes ASCII85 + Flate streams)."""
    texts = []
    for filters, data in _STREAM.findall(pdf):
        if b"/Image" in filters:
            continue
        if b"ASCII85Decode" in filters:
            data = base64.a85decode(data.strip(), adobe=True)
        if b"FlateDecode" in filters:
            try:
                data = zlib.decompress(data)
            except zlib.error:
                continue
        texts.append(data.decode("latin-1"))
    return "\n".join(texts)


def pay_at_counter(bill: Bill, cashier: User, amount: str) -> Receipt:
    till = open_till(
        cashier=cashier,
        department=Department.objects.get(code="revenue"),
        opening_float=Decimal("0"),
    )
    payment = receive_counter_payment(
        till=till,
        bill_number=bill.number,
        amount=Decimal(amount),
        method="bank",
        bank="kcb",
        reference="SLIP4471",
        idempotency_token=new_form_token(),
        actor=cashier,
    )
    return payment.receipt


def test_a_receipt_pdf_is_a_pdf_naming_its_receipt(
    make_bill: Callable[..., Bill], make_staff: Callable[..., User]
) -> None:
    bill = make_bill(Decimal("1500.00"))
    receipt = pay_at_counter(bill, make_staff(["cashier"]), "1000")
    pdf = render_receipt_pdf(receipt=receipt)
    assert pdf.startswith(b"%PDF-")
    assert receipt.number.encode() in pdf
    text = pdf_text(pdf)
    assert receipt.number in text
    assert bill.number in text
    assert "Wanjiru Njoroge" in text
    assert "Market entry fee" in text
    assert "KES 1,000.00" in text  # paid
    assert "KES 500.00" in text  # balance after this payment
    assert "Bank deposit" in text
    assert "KCB SLIP4471" in text
    assert verification_url(receipt.verification_code) in text
    assert "CANCELLED" not in text
    assert b"/Subtype /Image" in pdf  # the QR code


def test_a_cancelled_receipt_pdf_is_stamped_cancelled(
    make_bill: Callable[..., Bill], make_staff: Callable[..., User]
) -> None:
    cashier = make_staff(["cashier"])
    receipt = pay_at_counter(make_bill(Decimal("500.00")), cashier, "500")
    cancel_receipt(
        receipt=receipt,
        reason="Wrong bill",
        requested_by=cashier,
        approved_by=make_staff(["supervisor"], department="trade"),
    )
    receipt.refresh_from_db()
    text = pdf_text(render_receipt_pdf(receipt=receipt))
    assert "CANCELLED" in text
    assert "Wrong bill" in text


def test_a_suspense_receipt_pdf_names_what_the_payer_typed(price_list: None) -> None:
    suspense = PaymentFactory.create(
        bill_number="NOSUCHBIL",
        amount=Decimal("800"),
        external_ref="RKTQDM7W6S",
        payer_phone="",
        payer_name="Otieno Odhiambo",
    )
    text = pdf_text(render_receipt_pdf(receipt=suspense.receipt))
    assert "NOSUCHBIL" in text
    assert "Held in suspense for review" in text
    assert "RKTQDM7W6S" in text
    assert "Otieno Odhiambo" in text
