"""Who may see and do what on the land pages and API: anonymous, a citizen, staff of
another department without a land role, each role the land actions name held in Lands or
the Revenue Directorate, and the same roles held in a department that does no land work
(Health), which grant no land action (kaunti.land.permissions)."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from kaunti.accounts.models import User
from kaunti.core.models import Job
from kaunti.land.models import Objection, ParcelCharge, RatingRule, RollImport, RollStatus
from kaunti.land.services.roll import add_roll_entry, create_roll, import_roll, lodge_objection
from kaunti.land.tests import test_pages_land as shared
from kaunti.land.tests.conftest import FY
from kaunti.land.tests.test_pages_land import LandWorld

pytestmark = pytest.mark.django_db

# The shared fixtures of the land page tests.
land_world = shared.land_world
staff_client = shared.staff_client

WHO = [
    "anonymous",
    "citizen",
    "staff without a land role",
    "land officer",
    "revenue officer",
    "auditor",
    "supervisor",
    "revenue supervisor",
    "finance supervisor",
    "health supervisor",
    "health revenue officer",
]
ROLES = {
    "staff without a land role": (["approver", "inspector"], "trade"),
    "land officer": (["land_officer"], "lands"),
    "revenue officer": (["revenue_officer"], "revenue"),
    "auditor": (["auditor"], "audit"),
    "supervisor": (["supervisor"], "lands"),
    "revenue supervisor": (["supervisor"], "revenue"),
    # Finance is the Revenue Directorate's parent: its roles cover the directorate.
    "finance supervisor": (["supervisor"], "finance"),
    "health supervisor": (["supervisor"], "health"),
    "health revenue officer": (["revenue_officer"], "health"),
}
VIEWERS = {
    "land officer",
    "revenue officer",
    "auditor",
    "supervisor",
    "revenue supervisor",
    "finance supervisor",
}
EDITORS = {"land officer", "supervisor"}
BILLERS = {"revenue officer", "supervisor", "revenue supervisor", "finance supervisor"}
APPROVERS = {"supervisor"}
RATERS = {"supervisor"}


def client_for(who: str, citizen: User, staff_client: Callable[..., Client]) -> Client:
    if who == "anonymous":
        return Client()
    if who == "citizen":
        client = Client()
        client.force_login(citizen)
        return client
    roles, department = ROLES[who]
    return staff_client(roles, department=department)


def page_status(allowed: bool, who: str) -> int:
    """A page: 200 when allowed; anonymous to the staff sign-in (302); others 403."""
    if allowed:
        return 200
    return 302 if who == "anonymous" else 403


def api_status(allowed: bool, who: str) -> int:
    if allowed:
        return 200
    return 401 if who == "anonymous" else 403


@pytest.mark.parametrize("who", WHO)
def test_the_permission_matrix_of_the_land_pages_and_api(
    who: str,
    land_world: LandWorld,
    citizen: User,
    staff_client: Callable[..., Client],
) -> None:
    draft = create_roll(name="Draft 2027", valuation_date=date(2027, 1, 1), actor=None)
    entry = add_roll_entry(
        roll=draft,
        parcel=land_world.p1,
        site_value=Decimal(900_000),
        valuation_date=date(2027, 1, 1),
        actor=None,
    )
    objection = lodge_objection(entry=entry, objector_name="W K", grounds="High", actor=None)
    report = import_roll(
        roll=draft, file_name="r.csv", content=b"parcel_number,site_value\nX/1,5\n", actor=None
    )
    job = Job.objects.create(kind="land.bill_rates", description="Land rates 2026/27")
    parcel = "NYANDARUA-OLKALOU-1001"
    client = client_for(who, citizen, staff_client)

    pages = {
        "home": (reverse("land:home"), VIEWERS),
        "search": (reverse("land:parcel_search"), VIEWERS),
        "parcel": (reverse("land:parcel_detail", args=[parcel]), VIEWERS),
        "map": (reverse("land:map"), VIEWERS),
        "rolls": (reverse("land:roll_list"), VIEWERS),
        "roll": (reverse("land:roll_detail", args=[draft.public_id]), VIEWERS),
        "import report": (reverse("land:roll_import_report", args=[report.public_id]), VIEWERS),
        "rating": (reverse("land:rating"), VIEWERS),
        "billing": (reverse("land:billing"), VIEWERS),
        "billing progress": (reverse("land:billing_progress", args=[job.public_id]), VIEWERS),
        "transfer": (reverse("land:record_transfer", args=[parcel]), EDITORS),
        "import": (reverse("land:roll_import", args=[draft.public_id]), EDITORS),
        "object": (reverse("land:lodge_objection", args=[draft.public_id]), EDITORS),
        "decide": (reverse("land:decide_objection", args=[objection.public_id]), EDITORS),
        "approve": (reverse("land:roll_approve", args=[draft.public_id]), APPROVERS),
    }
    apis = {
        "api parcels": (reverse("api:land-parcels"), VIEWERS),
        "api parcel": (reverse("api:land-parcel", args=[parcel]), VIEWERS),
        "api statement": (reverse("api:land-parcel-statement", args=[parcel]), VIEWERS),
        "api map": (reverse("api:land-map"), VIEWERS),
        "api wards": (reverse("api:land-ward-outlines"), VIEWERS),
        "api rolls": (reverse("api:land-rolls"), VIEWERS),
        "api entries": (reverse("api:land-roll-entries", args=[draft.public_id]), VIEWERS),
        "api runs": (reverse("api:land-billing-runs"), VIEWERS),
    }
    expected = {name: page_status(who in allowed, who) for name, (_url, allowed) in pages.items()}
    expected |= {name: api_status(who in allowed, who) for name, (_url, allowed) in apis.items()}
    seen = {name: client.get(url).status_code for name, (url, _allowed) in pages.items()}
    seen |= {name: client.get(url).status_code for name, (url, _allowed) in apis.items()}

    assert seen == expected


@pytest.mark.parametrize("who", WHO)
def test_who_may_change_rolls_rules_and_billing(
    who: str,
    land_world: LandWorld,
    citizen: User,
    staff_client: Callable[..., Client],
) -> None:
    """Each refused change leaves everything as it was."""
    draft = create_roll(name="Draft 2027", valuation_date=date(2027, 1, 1), actor=None)
    add_roll_entry(
        roll=draft,
        parcel=land_world.p3,
        site_value=Decimal(100_000),
        valuation_date=date(2027, 1, 1),
        actor=None,
    )
    client = client_for(who, citizen, staff_client)

    rule = client.post(
        reverse("land:rating_set_rule"),
        {"financial_year": str(FY), "land_use": "industrial", "rate_percent": "1",
         "minimum_charge": "0"},
    )  # fmt: skip
    penalties = client.post(reverse("land:penalty_run"), {"month": "2026-11"})
    billing = client.post(reverse("land:billing_start"), {"financial_year": "2030"})
    imported = client.post(
        reverse("land:roll_import", args=[draft.public_id]),
        {"file": _csv("parcel_number,site_value\nNYANDARUA/OL KALOU/1001,5\n")},
    )
    approved = client.post(reverse("land:roll_approve", args=[draft.public_id]), {"confirm": "on"})
    api_billing = client.post(
        reverse("api:land-billing-runs"), {"financial_year": 2030}, content_type="application/json"
    )

    assert (not is_refused(rule)) is (who in RATERS)
    assert RatingRule.objects.filter(land_use="industrial").exists() is (who in RATERS)
    assert (not is_refused(penalties)) is (who in BILLERS)
    assert ParcelCharge.objects.filter(kind="penalty").exists() is (who in BILLERS)
    assert (not is_refused(billing)) is (who in BILLERS)
    assert not Job.objects.filter(kind="land.bill_rates").exists()  # 2030 has no terms
    # The API: allowed callers get as far as the service's refusal of 2030 (400).
    expected_api = 400 if who in BILLERS else 401 if who == "anonymous" else 403
    assert api_billing.status_code == expected_api
    assert (not is_refused(imported)) is (who in EDITORS)
    assert RollImport.objects.filter(roll=draft).exists() is (who in EDITORS)
    draft.refresh_from_db()
    assert (draft.status == RollStatus.PUBLISHED) is (who in APPROVERS)
    assert (not is_refused(approved)) is (who in APPROVERS)
    assert Objection.objects.count() == 0


def is_refused(response: Any) -> bool:
    """403, or (anonymous) sent to the staff sign-in page."""
    if response.status_code == 403:
        return True
    return response.status_code == 302 and response["Location"].startswith("/staff/sign-in/")


def _csv(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("roll.csv", text.encode(), "text/csv")


def test_a_land_role_without_the_second_factor_is_refused(
    land_world: LandWorld, make_staff: Callable[..., User]
) -> None:
    officer = make_staff(["land_officer"], department="lands")
    client = Client()
    client.force_login(officer)  # signed in, but never passed the TOTP step

    assert client.get(reverse("land:parcel_search")).status_code == 403
    assert client.get(reverse("api:land-map")).status_code == 403


@pytest.mark.parametrize(
    ("who", "offered"),
    [
        ("supervisor", {"approve", "rating", "billing"}),
        ("land officer", set()),
        ("revenue supervisor", {"billing"}),
        ("revenue officer", {"billing"}),
    ],
)
def test_the_pages_offer_only_what_the_users_department_allows(
    who: str,
    offered: set[str],
    land_world: LandWorld,
    citizen: User,
    staff_client: Callable[..., Client],
) -> None:
    """A supervisor of the Revenue Directorate reads the roll and the rating terms but is
    offered neither approving the roll nor setting the rules, which are Lands' own."""
    draft = create_roll(name="Draft 2027", valuation_date=date(2027, 1, 1), actor=None)
    client = client_for(who, citizen, staff_client)

    roll_page = client.get(reverse("land:roll_detail", args=[draft.public_id]))
    rating_page = client.get(reverse("land:rating"))
    billing_page = client.get(reverse("land:billing"))

    assert [page.status_code for page in (roll_page, rating_page, billing_page)] == [200] * 3
    links = {
        "approve": (roll_page, reverse("land:roll_approve", args=[draft.public_id])),
        "rating": (rating_page, reverse("land:rating_set_rule")),
        "billing": (billing_page, reverse("land:billing_start")),
    }
    seen = {name for name, (page, url) in links.items() if f'"{url}"' in page.content.decode()}
    assert seen == offered


@pytest.mark.parametrize("who", [who for who in WHO if who not in ("anonymous", "citizen")])
def test_the_staff_home_lists_only_the_land_pages_each_person_may_open(
    who: str, citizen: User, staff_client: Callable[..., Client]
) -> None:
    client = client_for(who, citizen, staff_client)

    home = client.get(reverse("accounts:staff_home"))

    assert home.status_code == 200
    listed = {
        name
        for name in ("parcel_search", "map", "roll_list", "rating", "billing")
        if f'"{reverse(f"land:{name}")}"' in home.content.decode()
    }
    expected = (
        ({"parcel_search", "map", "roll_list"} if who in VIEWERS else set())
        | ({"rating"} if who in RATERS else set())
        | ({"billing"} if who in BILLERS else set())
    )
    assert listed == expected
