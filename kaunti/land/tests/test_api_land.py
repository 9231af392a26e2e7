"""The land API: parcel search and detail, the statement, roll entries, billing runs, and
their place in the OpenAPI schema."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kaunti.core.models import Job
from kaunti.land.models import BillingRun
from kaunti.land.services.roll import add_roll_entry, create_roll, lodge_objection
from kaunti.land.tests import test_pages_land as shared
from kaunti.land.tests.conftest import FY
from kaunti.land.tests.test_pages_land import LandWorld

pytestmark = pytest.mark.django_db

# The shared fixtures of the land page tests.
land_officer = shared.land_officer
land_world = shared.land_world
staff_client = shared.staff_client


def get(client: Client, url: str, **query: str) -> Any:
    response = client.get(url, query)
    assert response.status_code == 200, response.content[:300]
    return response.json()


def test_parcel_search_by_number_owner_and_ward(
    land_world: LandWorld, land_officer: Client
) -> None:
    url = reverse("api:land-parcels")

    by_number = get(land_officer, url, q="olkalou/100")
    by_owner = get(land_officer, url, q="20000005")
    by_ward = get(land_officer, url, ward="0453", status="paid")

    assert by_number["count"] == 3
    assert [row["number"] for row in by_number["results"]] == [
        "NYANDARUA/OL KALOU/1001",
        "NYANDARUA/OL KALOU/1002",
        "NYANDARUA/OL KALOU/1003",
    ]
    assert [row["number"] for row in by_owner["results"]] == ["NYANDARUA/ENGINEER/77"]
    assert [row["number"] for row in by_ward["results"]] == ["NYANDARUA/OL KALOU/1002"]
    first = by_number["results"][0]
    assert first["url_number"] == "NYANDARUA-OLKALOU-1001"
    assert (first["ward"], first["ward_name"]) == ("0453", "Karau")
    assert (first["balance"], first["status"]) == ("1000.00", "arrears")


def test_an_unknown_status_filter_is_a_problem(land_world: LandWorld, land_officer: Client) -> None:
    response = land_officer.get(reverse("api:land-parcels"), {"status": "rich"})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_parcel_detail_has_owners_shares_boundary_and_roll_entries(
    land_world: LandWorld, land_officer: Client
) -> None:
    body = get(land_officer, reverse("api:land-parcel", args=["NYANDARUA-OLKALOU-1002"]))

    assert body["number"] == "NYANDARUA/OL KALOU/1002"
    assert body["status"] == "paid"
    assert body["boundary"]["type"] == "Polygon"
    assert [(o["name"], o["share"]) for o in body["owners"]] == [
        ("Peter Mwangi", "1/2"),
        ("Grace Mwangi", "1/2"),
    ]
    assert [(e["roll_name"], e["site_value"]) for e in body["roll_entries"]] == [
        ("Valuation roll 2026", "800000.00")
    ]
    assert body["transfers"] == []


def test_an_unknown_parcel_is_a_404_problem(land_world: LandWorld, land_officer: Client) -> None:
    response = land_officer.get(reverse("api:land-parcel", args=["NYANDARUA-NOWHERE-1"]))

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_the_statement_has_each_years_figures_and_its_bills(
    land_world: LandWorld, land_officer: Client
) -> None:
    paid = get(land_officer, reverse("api:land-parcel-statement", args=["NYANDARUA-OLKALOU-1002"]))
    owing = get(land_officer, reverse("api:land-parcel-statement", args=["NYANDARUA-OLKALOU-1001"]))

    assert paid["balance"] == "0.00"
    assert paid["years"] == [
        {
            "financial_year": FY,
            "label": "2026/27",
            "arrears_brought_forward": "0.00",
            "charges": "4000.00",
            "penalties": "0.00",
            "payments": "4000.00",
            "balance": "0.00",
        }
    ]
    assert owing["balance"] == "1000.00"
    assert [(line["bill_number"], line["kind"], line["amount"]) for line in owing["lines"]] == [
        (land_world.bill_p1.number, "rates", "1000.00")
    ]


def test_roll_entries_are_listed_with_pending_objections(
    land_world: LandWorld, land_officer: Client
) -> None:
    roll = create_roll(name="Draft 2027", valuation_date=date(2027, 1, 1), actor=None)
    entry = add_roll_entry(
        roll=roll,
        parcel=land_world.p1,
        site_value=Decimal(1_100_000),
        valuation_date=date(2027, 1, 1),
        actor=None,
    )
    lodge_objection(entry=entry, objector_name="Wanjiku Kamau", grounds="High", actor=None)

    body = get(land_officer, reverse("api:land-roll-entries", args=[roll.public_id]))
    rolls = get(land_officer, reverse("api:land-rolls"))

    assert body["count"] == 1
    assert body["results"][0] == {
        "parcel": "NYANDARUA/OL KALOU/1001",
        "url_number": "NYANDARUA-OLKALOU-1001",
        "ward": "0453",
        "land_use": "residential",
        "site_value": "1100000.00",
        "valuation_date": "2027-01-01",
        "pending_objections": 1,
    }
    assert [(r["name"], r["status"], r["entry_count"]) for r in rolls] == [
        ("Draft 2027", "draft", 1),
        ("Valuation roll 2026", "published", 3),
    ]


def test_billing_runs_show_their_progress(land_world: LandWorld, land_officer: Client) -> None:
    run = BillingRun.objects.get(financial_year=FY)

    listed = get(land_officer, reverse("api:land-billing-runs"))
    one = get(land_officer, reverse("api:land-billing-run", args=[run.public_id]))

    assert [r["public_id"] for r in listed] == [str(run.public_id)]
    assert one["financial_year"] == FY
    assert one["state"] == "finished"
    assert (one["total_parcels"], one["bills_created"], one["percent"]) == (3, 3, 100)
    assert one["amount_billed"] == "5500.00"  # 1,000 + 4,000 + the minimum 500
    assert one["roll_name"] == "Valuation roll 2026"


def test_an_unknown_billing_run_is_a_404(land_world: LandWorld, land_officer: Client) -> None:
    response = land_officer.get(
        reverse("api:land-billing-run", args=["00000000-0000-0000-0000-000000000000"])
    )

    assert response.status_code == 404


def test_the_land_api_is_in_the_openapi_schema(client: Client) -> None:
    response = client.get("/api/schema/", {"format": "json"})

    paths = response.json()["paths"]
    for path in (
        "/api/v1/land/parcels/",
        "/api/v1/land/parcels/{number}/",
        "/api/v1/land/parcels/{number}/statement/",
        "/api/v1/land/map/",
        "/api/v1/land/ward-outlines/",
        "/api/v1/land/rolls/",
        "/api/v1/land/rolls/{public_id}/entries/",
        "/api/v1/land/billing-runs/",
        "/api/v1/land/billing-runs/{public_id}/",
    ):
        assert path in paths, path
    map_params = {p["name"] for p in paths["/api/v1/land/map/"]["get"]["parameters"]}
    assert {"bbox", "ward"} <= map_params


def test_a_revenue_officer_starts_the_years_billing_through_the_api(
    land_world: LandWorld,
    staff_client: Callable[..., Client],
    django_capture_on_commit_callbacks: Any,
) -> None:
    officer = staff_client(["revenue_officer"], department="revenue")

    with django_capture_on_commit_callbacks(execute=True):
        response = officer.post(
            reverse("api:land-billing-runs"),
            {"financial_year": FY},
            content_type="application/json",
        )

    assert response.status_code == 202
    job = Job.objects.get(kind="land.bill_rates")
    assert response.json() == {
        "job": str(job.public_id),
        "progress_url": reverse("land:billing_progress", args=[job.public_id]),
    }
    job.refresh_from_db()
    assert (job.state, job.done, job.total) == ("succeeded", 3, 3)


def test_starting_billing_is_refused_to_a_land_officer_and_for_a_year_without_terms(
    land_world: LandWorld, land_officer: Client, staff_client: Callable[..., Client]
) -> None:
    officer = staff_client(["revenue_officer"], department="revenue")
    url = reverse("api:land-billing-runs")

    refused = land_officer.post(url, {"financial_year": FY}, content_type="application/json")
    no_terms = officer.post(url, {"financial_year": 2031}, content_type="application/json")

    assert refused.status_code == 403
    assert no_terms.status_code == 400
    assert no_terms["Content-Type"] == "application/problem+json"
    assert not Job.objects.filter(kind="land.bill_rates").exists()
