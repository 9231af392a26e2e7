"""Fees before signing in: every service page shows its fee schedule with amounts, and
every page that says "pay by paybill" gives the paybill number (issue 14)."""

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from kaunti.accounts.models import User
from kaunti.eservices.models import Application, Service
from kaunti.eservices.services.applications.submission import submit_application

pytestmark = pytest.mark.django_db

ZONE_A = "in Engineer, Kanjuiri Ridge, Karau, Njabini/Kiburu, Rurii"


def row(item: str, amount: str) -> str:
    return (
        f'<tr class="govuk-table__row"><td class="govuk-table__cell">{item}</td>'
        f'<td class="govuk-table__cell govuk-table__cell--numeric">{amount}</td></tr>'
    )


def service_page(client: Client, code: str) -> str:
    response = client.get(reverse("eservices:service_detail", args=[code]))
    assert response.status_code == 200
    return response.content.decode()


def test_an_anonymous_visitor_sees_the_business_permit_fees_by_category(
    ubp: Service, client: Client
) -> None:
    html = service_page(client, ubp.code)
    table = html[html.index('id="fee-schedule"') :]
    assert row("Supermarket or large trader (about 50 staff or 500 m²)", "KES 165,000.00") in table
    assert row(f"Medium trader or shop (6 to 49 staff) {ZONE_A}", "KES 20,000.00") in table
    assert row("Medium trader or shop (6 to 49 staff) in the other wards", "KES 15,000.00") in table
    assert row("Salon, barber or tailor", "KES 10,000.00") in table
    assert row("Late renewal penalty (10% after 31 March)", "10% more") in table
    # The 2025 amnesty is over: not offered.
    assert "Penalty amnesty" not in table
    assert "Sign in to apply" in html


def test_a_per_unit_fee_shows_its_price_and_minimum(catalogue: None, client: Client) -> None:
    html = service_page(client, "building-plan-approval")
    assert row("Plan registration fee", "KES 2,000.00") in html
    assert row("Plan approval, residential", "KES 50.00 per m², at least KES 5,000.00") in html


def test_the_fees_are_shown_in_kiswahili(catalogue: None, client: Client) -> None:
    client.cookies["kaunti_language"] = "sw"
    html = service_page(client, "livestock-movement-permit")
    assert row("Kibali cha kusafirisha ng&#x27;ombe", "KES 100.00 kwa vichwa") in html
    assert "Lipa mtandaoni kwa M-Pesa, au kwa M-Pesa paybill 174379" in html


@override_settings(MPESA_SHORTCODE="600123")
def test_the_service_page_gives_the_paybill_number(ubp: Service, client: Client) -> None:
    html = service_page(client, ubp.code)
    assert (
        "Pay online with M-Pesa, or by M-Pesa paybill 600123 with your bill number as the "
        "account number."
    ) in html


@override_settings(MPESA_SHORTCODE="600123")
def test_the_home_page_gives_the_paybill_number(reference_data: None, client: Client) -> None:
    html = client.get("/").content.decode()
    assert (
        "Every payment can also be made by M-Pesa paybill 600123 using the bill number as "
        "the account number."
    ) in html


@override_settings(MPESA_SHORTCODE="600123")
def test_my_bills_gives_the_paybill_number(citizen: User) -> None:
    client = Client()
    client.force_login(citizen)
    html = client.get(reverse("payments:my_bills")).content.decode()
    assert "You can also pay any bill by M-Pesa paybill 600123, with the bill number" in html


@override_settings(MPESA_SHORTCODE="600123")
def test_an_unpaid_application_gives_the_paybill_and_the_account_number(
    draft_ubp: Application, citizen: User
) -> None:
    submitted = submit_application(application=draft_ubp, actor=citizen)
    assert submitted.bill is not None
    client = Client()
    client.force_login(citizen)
    html = client.get(
        reverse("eservices:application_detail", args=[submitted.reference])
    ).content.decode()
    assert f"Or pay by M-Pesa paybill 600123, account number {submitted.bill.number}." in html
