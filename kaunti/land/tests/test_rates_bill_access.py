"""Who may open a land-rates bill: rates are billed under Lands and collected by the
Revenue Directorate, so its bill viewers open them as Lands' own do; staff of other
departments still may not, and citizens see only the bills raised in their name."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from kaunti.accounts.models import User
from kaunti.conftest import sign_in_staff
from kaunti.land.models import ParcelCharge
from kaunti.land.tests import test_pages_land as shared
from kaunti.land.tests.test_pages_land import LandWorld, detail_url
from kaunti.payments.models import Bill, Payment
from kaunti.payments.selectors.bills import access_bill_for_staff, list_bills_for_staff
from kaunti.payments.services.bills import Payer
from kaunti.payments.tests.factories import BillFactory

pytestmark = pytest.mark.django_db

# The shared fixtures of the land page tests.
land_world = shared.land_world


def staff_page(bill: Bill) -> str:
    return reverse("payments:staff_bill", args=[bill.number])


def bill_api(bill: Bill) -> str:
    return reverse("api:bill", args=[bill.number])


def signed_in(user: User) -> Client:
    client = Client()
    sign_in_staff(client, user)
    return client


def market_bill(payer: Payer) -> Bill:
    """A bill of another department (Trade) to compare with."""
    return BillFactory.create(payer=payer, amount=Decimal(50), due_on=date(2026, 12, 31))


def test_a_revenue_officer_opens_a_land_rates_bill_its_receipt_and_its_api_detail(
    land_world: LandWorld, make_staff: Callable[..., User]
) -> None:
    bill = land_world.bill_p2
    receipt = Payment.objects.get(bill=bill).receipt
    officer = signed_in(make_staff(["revenue_officer"], department="revenue"))

    page = officer.get(staff_page(bill))
    detail = officer.get(bill_api(bill))
    pdf = officer.get(reverse("payments:staff_receipt_pdf", args=[receipt.number]))

    assert bill.department.code == "lands"
    assert page.status_code == 200
    assert bill.number in page.content.decode()
    assert detail.status_code == 200
    assert (detail.json()["number"], detail.json()["department"]) == (bill.number, "lands")
    assert (detail.json()["total"], detail.json()["status"]) == ("4000.00", "paid")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF-")


def test_the_revenue_directorate_finds_rates_bills_in_its_bill_list_but_no_other_departments(
    land_world: LandWorld, make_staff: Callable[..., User]
) -> None:
    trade = market_bill(Payer(name="Otieno Odhiambo", phone="0722000444"))
    user = make_staff(["revenue_officer"], department="revenue")

    listed = {bill.number for bill in list_bills_for_staff(user=user)}

    # The rates of P1, P2 and P4 (P3 is on no roll); not the market bill.
    assert listed == set(ParcelCharge.objects.values_list("bill__number", flat=True))
    assert len(listed) == 3
    assert {land_world.bill_p1.number, land_world.bill_p2.number} < listed
    assert trade.number not in listed
    assert signed_in(user).get(staff_page(trade)).status_code == 403


def test_a_finance_supervisor_and_a_revenue_cashier_may_view_rates_bills_too(
    land_world: LandWorld, make_staff: Callable[..., User]
) -> None:
    bill = land_world.bill_p1
    supervisor = signed_in(make_staff(["supervisor"], department="finance"))
    cashier = signed_in(make_staff(["cashier"], department="revenue"))

    assert supervisor.get(staff_page(bill)).status_code == 200
    assert cashier.get(staff_page(bill)).status_code == 200


def test_an_internal_auditor_opens_rates_bills_as_every_other_bill(
    land_world: LandWorld, make_staff: Callable[..., User]
) -> None:
    bill = land_world.bill_p2
    receipt = Payment.objects.get(bill=bill).receipt
    auditor = signed_in(make_staff(["auditor"], department="audit"))

    assert auditor.get(staff_page(bill)).status_code == 200
    assert auditor.get(bill_api(bill)).status_code == 200
    pdf = reverse("payments:staff_receipt_pdf", args=[receipt.number])
    assert auditor.get(pdf).status_code == 200


def test_staff_of_an_unrelated_department_still_cannot_open_a_land_rates_bill(
    land_world: LandWorld, make_staff: Callable[..., User]
) -> None:
    bill = land_world.bill_p2
    receipt = Payment.objects.get(bill=bill).receipt
    health_officer = make_staff(["revenue_officer"], department="health")
    trade_approver = make_staff(["approver", "inspector"], department="trade")

    for user in (health_officer, trade_approver):
        client = signed_in(user)
        assert client.get(staff_page(bill)).status_code == 403
        assert client.get(bill_api(bill)).status_code == 403
        assert (
            client.get(reverse("payments:staff_receipt_pdf", args=[receipt.number])).status_code
            == 403
        )
    assert list(list_bills_for_staff(user=health_officer)) == []
    with pytest.raises(PermissionDenied):
        access_bill_for_staff(user=health_officer, number=bill.number)


def test_acting_on_a_rates_bill_stays_with_lands(
    land_world: LandWorld, make_staff: Callable[..., User]
) -> None:
    """Seeing a rates bill does not let the Revenue Directorate raise or cancel on it."""
    officer = make_staff(["revenue_officer", "supervisor"], department="revenue")
    lands_officer = make_staff(["revenue_officer"], department="lands")
    number = land_world.bill_p1.number

    with pytest.raises(PermissionDenied):
        access_bill_for_staff(user=officer, number=number, action="payments.raise_bill")
    assert (
        access_bill_for_staff(user=lands_officer, number=number, action="payments.raise_bill")
        == land_world.bill_p1
    )


def test_a_citizen_still_sees_only_their_own_bills(land_world: LandWorld, citizen: User) -> None:
    own = market_bill(Payer(name="Wanjiku Kamau", phone="0712000111", user=citizen))
    client = Client()
    client.force_login(citizen)

    assert client.get(bill_api(own)).status_code == 200
    assert client.get(bill_api(land_world.bill_p1)).status_code == 404
    assert [row["number"] for row in client.get(reverse("api:bills")).json()["results"]] == [
        own.number
    ]
    assert client.get(staff_page(land_world.bill_p1)).status_code == 403


def test_the_parcel_page_links_its_bills_only_for_those_who_may_open_them(
    land_world: LandWorld, make_staff: Callable[..., User]
) -> None:
    """A land officer of Lands reads the parcel but holds no bill-viewing role, so sees the
    bill numbers as text; a revenue officer of Trade may not open the parcel at all."""
    link = f'href="{staff_page(land_world.bill_p1)}"'
    revenue = signed_in(make_staff(["revenue_officer"], department="revenue"))
    land_officer = signed_in(make_staff(["land_officer"], department="lands"))
    trade_officer = signed_in(make_staff(["revenue_officer"], department="trade"))

    with_link = revenue.get(detail_url(land_world.p1)).content.decode()
    without_link = land_officer.get(detail_url(land_world.p1)).content.decode()

    assert link in with_link
    assert revenue.get(staff_page(land_world.bill_p1)).status_code == 200
    assert link not in without_link
    assert land_world.bill_p1.number in without_link  # the number, as text
    assert land_officer.get(staff_page(land_world.bill_p1)).status_code == 403
    assert trade_officer.get(detail_url(land_world.p1)).status_code == 403
    assert trade_officer.get(staff_page(land_world.bill_p1)).status_code == 403
