"""The demo's revenue officer has price-list items to bill: "Raise a bill" offered them
nothing, since no miscellaneous item belongs to the Revenue Directorate."""

from typing import Any

import pytest
from django.test import Client

from kaunti.accounts.demo import load_demo_people
from kaunti.accounts.models import User
from kaunti.conftest import STAFF_PASSWORD, sign_in_staff
from kaunti.ledger.services import load_chart_of_accounts
from kaunti.payments.selectors.bills import list_miscellaneous_streams
from kaunti.payments.services.price_list import load_price_list

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(reference_data: None, settings: Any, tmp_path: Any) -> User:
    settings.VAR_DIR = tmp_path  # the demo keeps its passwords there
    load_demo_people()
    load_demo_people()  # a second `make run` changes nothing
    load_chart_of_accounts()
    load_price_list(county_code=settings.COUNTY_CODE)
    officer = User.objects.get(username="revenue.officer")
    officer.set_password(STAFF_PASSWORD)
    officer.save()
    return officer


def test_the_demo_revenue_officer_may_bill_the_fees_revenue_collectors_collect(
    demo: User,
) -> None:
    assert sorted(stream.code for stream in list_miscellaneous_streams(user=demo)) == [
        "hawker-permit",
        "house-rent",
        "livestock-movement",
        "machinery-hire",
        "market-fee",
        "produce-cess-milk",
        "produce-cess-potatoes",
        "weights-measures",
    ]
    assert demo.role_assignments.count() == 4


def test_raise_a_bill_offers_the_demo_revenue_officer_the_market_fee(
    client: Client, demo: User
) -> None:
    sign_in_staff(client, demo)
    page = client.get("/staff/bills/new/").content.decode()
    assert 'value="market-fee"' in page
    assert "Market entry fee" in page
