"""Bills, their lines and their receipts read in the reader's language (ADR 15)."""

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import translation

from kaunti.accounts.models import User
from kaunti.conftest import sign_in_staff
from kaunti.core.models import Department
from kaunti.payments.models import Bill
from kaunti.payments.services.bills import LineInput
from kaunti.payments.tests.test_receipts import pay_at_counter

pytestmark = pytest.mark.django_db


def test_a_bill_line_priced_from_the_list_carries_the_streams_kiswahili_name(
    make_bill: Callable[..., Bill],
) -> None:
    bill = make_bill(lines=[LineInput("market-fee", quantity=Decimal(3))])

    line = bill.lines.get()
    assert (line.description, line.description_sw) == ("Market entry fee", "Ada ya kuingia sokoni")


def test_a_staff_member_reading_in_kiswahili_sees_kiswahili_names_and_separated_money(
    client: Client, make_bill: Callable[..., Bill], make_staff: Callable[..., User]
) -> None:
    bill = make_bill(
        lines=[LineInput("market-fee", quantity=Decimal(70))], description_sw="Ada za soko"
    )
    officer = make_staff(["revenue_officer"], department="trade")
    officer.preferred_language = "sw"
    officer.save(update_fields=["preferred_language"])
    sign_in_staff(client, officer)

    html = client.get(f"/staff/bills/{bill.number}/").content.decode()

    assert "Viwanda, Biashara na Vyama vya Ushirika" in html
    assert "Industrialization, Trade" not in html
    assert "Ada za soko" in html
    assert "Ada ya kuingia sokoni" in html
    assert "Market entry fee" not in html
    assert "KES 3,500.00" in html


def test_the_verify_page_names_a_receipt_and_its_summary_in_kiswahili(
    client: Client, make_bill: Callable[..., Bill], make_staff: Callable[..., User]
) -> None:
    bill = make_bill(Decimal("3500.00"))
    receipt = pay_at_counter(bill, make_staff(["cashier"]), "3500.00")
    client.cookies["kaunti_language"] = "sw"

    html = client.get(f"/verify/{receipt.verification_code}").content.decode()

    assert f"Risiti {receipt.number}" in html
    assert f"KES 3,500.00 kwa bili {bill.number}" in html
    assert "Receipt" not in html
    client.cookies["kaunti_language"] = "en"
    english = client.get(f"/verify/{receipt.verification_code}").content.decode()
    assert f"KES 3,500.00 for bill {bill.number}" in english


def test_departments_name_themselves_in_the_active_language(reference_data: None) -> None:
    trade = Department.objects.get(code="trade")
    with translation.override("sw"):
        assert str(trade) == "Viwanda, Biashara na Vyama vya Ushirika"
    with translation.override("en"):
        assert str(trade) == "Industrialization, Trade and Cooperatives"


def test_the_price_list_offered_in_kiswahili_names_items_and_units_in_kiswahili(
    client: Client, price_list: None, make_staff: Callable[..., User]
) -> None:
    officer = make_staff(["revenue_officer"], department="trade")
    officer.preferred_language = "sw"
    officer.save(update_fields=["preferred_language"])
    sign_in_staff(client, officer)

    html = client.get("/staff/bills/new/").content.decode()

    assert "Ada ya kuingia sokoni (KES 50.00 kwa siku)" in html
    assert "per day" not in html
