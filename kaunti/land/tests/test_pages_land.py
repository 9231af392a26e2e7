"""The staff land pages and the public balance check, through HTTP, as a person sees them.

The fixtures here (`land_world`, `staff_client` ...) are shared with the land API, map,
permission and browser tests, which import them.
"""

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from django.test import Client
from django.urls import reverse

from kaunti.accounts.models import User
from kaunti.conftest import sign_in_staff
from kaunti.core.models import Job, Ward
from kaunti.land.demo import DATA
from kaunti.land.models import (
    BillingRun,
    ChargeKind,
    LandUse,
    Objection,
    ObjectionStatus,
    Ownership,
    Parcel,
    ParcelCharge,
    RatingRule,
    RatingYear,
    RollStatus,
    Transfer,
    ValuationRoll,
)
from kaunti.land.services.billing import bill_rates
from kaunti.land.services.roll import add_roll_entry, create_roll, lodge_objection
from kaunti.land.tests.conftest import FY
from kaunti.land.tests.factories import OwnerFactory, ParcelFactory, ValuationRollFactory
from kaunti.payments.models import Bill
from kaunti.payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db


def square(west: float, south: float, size: float = 0.001) -> dict[str, Any]:
    """A square boundary `size` degrees a side (0.001 degree is about 111 m)."""
    east, north = west + size, south + size
    return {
        "type": "Polygon",
        "coordinates": [
            [[west, south], [east, south], [east, north], [west, north], [west, south]]
        ],
    }


@dataclass
class LandWorld:
    """Four parcels: P1 owes its rates, P2 (two owners) has paid, P3 is on no roll, P4 (in
    Engineer ward, far from the others) owes its minimum charge."""

    p1: Parcel
    p2: Parcel
    p3: Parcel
    p4: Parcel
    roll: ValuationRoll
    bill_p1: Bill
    bill_p2: Bill


def _parcel(
    number: str, ward: Ward, boundary: dict[str, Any], land_use: str, owners: list[tuple[str, str]]
) -> Parcel:
    return ParcelFactory.create(
        number=number,
        ward=ward,
        area_hectares=Decimal("1.2300"),
        land_use=land_use,
        boundary=boundary,
        owners=[
            OwnerFactory.create(name=name, national_id=national_id) for name, national_id in owners
        ],
    )


@pytest.fixture
def land_world(rating_year: RatingYear) -> LandWorld:
    karau = Ward.objects.get(code="0453")
    engineer = Ward.objects.get(code="0441")
    p1 = _parcel(
        "Nyandarua / Ol Kalou / 1001",
        karau,
        square(36.380, -0.272),
        LandUse.RESIDENTIAL,
        [("Wanjiku Kamau", "20000001")],
    )
    p2 = _parcel(
        "NYANDARUA/OL KALOU/1002",
        karau,
        square(36.382, -0.272),
        LandUse.COMMERCIAL,
        [("Peter Mwangi", "20000002"), ("Grace Mwangi", "20000003")],
    )
    p3 = _parcel(
        "NYANDARUA/OL KALOU/1003",
        karau,
        square(36.384, -0.272),
        LandUse.RESIDENTIAL,
        [("John Kariuki", "20000004")],
    )
    p4 = _parcel(
        "NYANDARUA/ENGINEER/77",
        engineer,
        square(36.600, -0.500),
        LandUse.AGRICULTURAL,
        [("Mary Wanjiru", "20000005")],
    )
    roll = ValuationRollFactory.create(
        values={p1: Decimal("1000000"), p2: Decimal("800000"), p4: Decimal("300000")}
    )
    bill_rates(financial_year=FY, actor=None)
    bill_p1 = ParcelCharge.objects.get(parcel=p1, kind=ChargeKind.RATES).bill
    bill_p2 = ParcelCharge.objects.get(parcel=p2, kind=ChargeKind.RATES).bill
    PaymentFactory.create(
        bill=bill_p2, amount=bill_p2.total, external_ref="LAND-TEST-P2", at_counter=True
    )
    return LandWorld(p1, p2, p3, p4, roll, bill_p1, bill_p2)


@pytest.fixture
def staff_client(make_staff: Callable[..., User]) -> Callable[..., Client]:
    """A client signed in (password and TOTP) as new staff with `roles` in `department`."""

    def make(roles: list[str], department: str = "lands") -> Client:
        client = Client()
        sign_in_staff(client, make_staff(roles, department=department))
        return client

    return make


@pytest.fixture
def land_officer(staff_client: Callable[..., Client]) -> Client:
    return staff_client(["land_officer"])


@pytest.fixture
def supervisor(staff_client: Callable[..., Client]) -> Client:
    return staff_client(["supervisor"])


class _InlineCodeFinder(HTMLParser):
    """What a strict Content-Security-Policy would block: inline scripts and styles."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _value in attrs}
        if tag == "script" and not dict(attrs).get("src"):
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        if "style" in names:
            self.found.append(f"style= on <{tag}>")
        self.found.extend(f"{name}= on <{tag}>" for name in names if name.startswith("on"))


def inline_code(html: str) -> list[str]:
    finder = _InlineCodeFinder()
    finder.feed(html)
    return finder.found


def page(client: Client, url: str, **data: Any) -> str:
    response = client.get(url, data)
    assert response.status_code == 200, response.content[:300]
    return response.content.decode()


def detail_url(parcel: Parcel) -> str:
    return reverse("land:parcel_detail", args=[parcel.number_key.replace("/", "-")])


# --- Search -------------------------------------------------------------------------------


def test_search_finds_a_parcel_by_its_number_typed_loosely(
    land_world: LandWorld, land_officer: Client
) -> None:
    html = page(land_officer, reverse("land:parcel_search"), q="nyandarua olkalou-1001")

    assert "1 parcel" in html
    assert "NYANDARUA/OL KALOU/1001" in html
    assert "NYANDARUA/OL KALOU/1002" not in html


def test_search_finds_parcels_by_owner_and_by_ward(
    land_world: LandWorld, land_officer: Client
) -> None:
    by_owner = page(land_officer, reverse("land:parcel_search"), q="grace mwangi")
    by_ward = page(land_officer, reverse("land:parcel_search"), ward="0441")

    assert "NYANDARUA/OL KALOU/1002" in by_owner
    assert "Peter Mwangi &amp; Grace Mwangi" in by_owner
    assert "NYANDARUA/OL KALOU/1001" not in by_owner
    assert "NYANDARUA/ENGINEER/77" in by_ward
    assert "NYANDARUA/OL KALOU/1001" not in by_ward


def test_search_filters_by_rates_status(land_world: LandWorld, land_officer: Client) -> None:
    owing = page(land_officer, reverse("land:parcel_search"), status="arrears")

    assert "2 parcels" in owing
    assert "NYANDARUA/OL KALOU/1001" in owing
    assert "NYANDARUA/ENGINEER/77" in owing
    assert "NYANDARUA/OL KALOU/1002" not in owing


def test_search_pages_fifty_parcels_at_a_time(land_world: LandWorld, land_officer: Client) -> None:
    ward = Ward.objects.get(code="0453")
    for number in range(60):
        ParcelFactory.create(
            number=f"NYANDARUA/RURII/{number + 1}", ward=ward, area_hectares=Decimal(1), owners=[]
        )

    first = page(land_officer, reverse("land:parcel_search"), q="RURII")
    second = page(land_officer, reverse("land:parcel_search"), q="RURII", page=2)

    assert "60 parcels" in first
    assert "Page 1 of 2" in first
    assert first.count('href="/staff/land/parcels/NYANDARUA-RURII-') == 50
    assert second.count('href="/staff/land/parcels/NYANDARUA-RURII-') == 10


# --- A parcel -----------------------------------------------------------------------------


def test_parcel_page_shows_owners_shares_roll_entries_and_the_statement(
    land_world: LandWorld, land_officer: Client
) -> None:
    html = page(land_officer, detail_url(land_world.p2))

    assert "Peter Mwangi" in html
    assert "Grace Mwangi" in html
    assert html.count(">1/2<") == 2
    assert "Valuation roll 2026" in html
    assert "800,000.00" in html  # the site value on the roll
    assert "2026/27" in html
    assert html.count("4,000.00") >= 2  # charged, and paid
    assert land_world.bill_p2.number in html
    assert 'data-mode="parcel"' in html  # the small map of its boundary
    assert "Nothing owed" in html


def test_parcel_page_shows_what_a_parcel_owes(land_world: LandWorld, land_officer: Client) -> None:
    html = page(land_officer, detail_url(land_world.p1))

    assert 'id="parcel-balance"><strong>KES 1,000.00</strong>' in html
    assert "Owes rates" in html
    assert land_world.bill_p1.number in html


def test_an_unknown_parcel_is_not_found(land_world: LandWorld, land_officer: Client) -> None:
    response = land_officer.get(reverse("land:parcel_detail", args=["NYANDARUA-NOWHERE-1"]))

    assert response.status_code == 404


def test_recording_a_transfer_ends_the_old_holdings_and_keeps_them_as_history(
    land_world: LandWorld, land_officer: Client, tmp_path: Path, settings: Any
) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    url = reverse("land:record_transfer", args=["NYANDARUA-OLKALOU-1001"])
    response = land_officer.post(
        url,
        {
            "instrument": "IR 4471/2026",
            "registered_on": "2026-10-01",
            "owner1_kind": "individual",
            "owner1_name": "Samuel Gitau",
            "owner1_national_id": "30000001",
            "owner1_share": "1/2",
            "owner2_kind": "individual",
            "owner2_name": "Ann Muthoni",
            "owner2_national_id": "30000002",
            "owner2_share": "1/2",
            "document_title": "Transfer form",
            "document": SimpleUploadedFile("transfer.pdf", b"%PDF-1.4 test", "application/pdf"),
        },
        follow=True,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Transfer IR 4471/2026 is recorded." in html
    current = Ownership.objects.filter(parcel=land_world.p1, ended_on__isnull=True)
    assert sorted(current.values_list("owner__name", flat=True)) == ["Ann Muthoni", "Samuel Gitau"]
    ended = Ownership.objects.get(parcel=land_world.p1, owner__name="Wanjiku Kamau")
    assert ended.ended_on == date(2026, 10, 1)
    assert "IR 4471/2026" in html
    assert "Wanjiku Kamau (1/1)" in html  # the transfer's "from"
    assert "Transfer form" in html
    document = land_world.p1.documents.get()
    download = land_officer.get(reverse("land:parcel_document", args=[document.public_id]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 test"  # type: ignore[attr-defined]
    assert (
        Client().get(reverse("land:parcel_document", args=[document.public_id])).status_code == 302
    )


def test_a_transfer_whose_shares_do_not_add_up_is_refused_and_changes_nothing(
    land_world: LandWorld, land_officer: Client
) -> None:
    url = reverse("land:record_transfer", args=["NYANDARUA-OLKALOU-1001"])
    response = land_officer.post(
        url,
        {
            "instrument": "IR 9/2026",
            "registered_on": "2026-10-01",
            "owner1_kind": "individual",
            "owner1_name": "Samuel Gitau",
            "owner1_national_id": "30000001",
            "owner1_share": "1/2",
        },
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in html
    assert "they must add up to the whole parcel" in html
    assert Transfer.objects.count() == 0
    assert list(
        Ownership.objects.filter(parcel=land_world.p1).values_list("owner__name", "ended_on")
    ) == [("Wanjiku Kamau", None)]


# --- Rolls --------------------------------------------------------------------------------


def test_importing_a_roll_keeps_good_rows_and_reports_every_rejected_row(
    land_world: LandWorld, land_officer: Client
) -> None:
    roll = create_roll(name="Draft roll 2027", valuation_date=date(2027, 1, 1), actor=None)
    content = (
        "parcel_number,site_value,valuation_date\n"
        "NYANDARUA/OL KALOU/1001,1200000,2027-01-01\n"
        "NYANDARUA/OL KALOU/9999,500000,2027-01-01\n"
        "NYANDARUA/OL KALOU/1002,,2027-01-01\n"
        "nyandarua/ol kalou/1003,650000,\n"
    )
    upload = SimpleUploadedFile("roll.csv", content.encode(), "text/csv")

    response = land_officer.post(
        reverse("land:roll_import", args=[roll.public_id]), {"file": upload}, follow=True
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "2 of 4 rows added" in html
    assert "2 rows were rejected" in html
    assert "no parcel NYANDARUA/OLKALOU/9999 is registered" in html
    assert "the site value is missing" in html
    assert '<td class="govuk-table__cell govuk-table__cell--numeric">3</td>' in html
    assert '<td class="govuk-table__cell govuk-table__cell--numeric">4</td>' in html
    assert sorted(roll.entries.values_list("parcel__number", "site_value")) == [
        ("NYANDARUA/OL KALOU/1001", Decimal("1200000.00")),
        ("NYANDARUA/OL KALOU/1003", Decimal("650000.00")),
    ]


def test_a_file_that_is_not_csv_or_excel_is_refused(
    land_world: LandWorld, land_officer: Client
) -> None:
    roll = create_roll(name="Draft roll 2027", valuation_date=date(2027, 1, 1), actor=None)
    upload = SimpleUploadedFile("roll.pdf", b"%PDF", "application/pdf")

    response = land_officer.post(
        reverse("land:roll_import", args=[roll.public_id]), {"file": upload}
    )

    assert response.status_code == 200
    assert "Upload a CSV file or an Excel (.xlsx) workbook." in response.content.decode()
    assert roll.entries.count() == 0


def test_an_objection_is_decided_on_its_page_and_changes_the_entry(
    land_world: LandWorld, land_officer: Client
) -> None:
    roll = create_roll(name="Draft roll 2027", valuation_date=date(2027, 1, 1), actor=None)
    entry = add_roll_entry(
        roll=roll,
        parcel=land_world.p1,
        site_value=Decimal(2_000_000),
        valuation_date=date(2027, 1, 1),
        actor=None,
    )
    objection = lodge_objection(
        entry=entry, objector_name="Wanjiku Kamau", grounds="Too high", actor=None
    )

    listed = page(land_officer, reverse("land:roll_detail", args=[roll.public_id]))
    response = land_officer.post(
        reverse("land:decide_objection", args=[objection.public_id]),
        {"decision": "upheld", "decided_value": "1500000", "reason": "Comparable sales"},
        follow=True,
    )

    assert "Wanjiku Kamau" in listed
    assert "Decide" in listed
    assert "The decision is recorded." in response.content.decode()
    objection.refresh_from_db()
    entry.refresh_from_db()
    assert objection.status == ObjectionStatus.UPHELD
    assert entry.site_value == Decimal("1500000.00")


def test_upholding_without_a_value_is_refused_and_changes_nothing(
    land_world: LandWorld, land_officer: Client
) -> None:
    roll = create_roll(name="Draft roll 2027", valuation_date=date(2027, 1, 1), actor=None)
    entry = add_roll_entry(
        roll=roll,
        parcel=land_world.p1,
        site_value=Decimal(2_000_000),
        valuation_date=date(2027, 1, 1),
        actor=None,
    )
    objection = lodge_objection(entry=entry, objector_name="W K", grounds="High", actor=None)

    response = land_officer.post(
        reverse("land:decide_objection", args=[objection.public_id]),
        {"decision": "upheld", "reason": "Comparable sales"},
    )

    assert "Enter the new site value." in response.content.decode()
    assert Objection.objects.get(pk=objection.pk).status == ObjectionStatus.PENDING
    entry.refresh_from_db()
    assert entry.site_value == Decimal("2000000.00")


def test_a_supervisor_approves_a_roll_and_it_replaces_the_one_in_force(
    land_world: LandWorld, supervisor: Client
) -> None:
    roll = create_roll(name="Draft roll 2027", valuation_date=date(2027, 1, 1), actor=None)
    add_roll_entry(
        roll=roll,
        parcel=land_world.p3,
        site_value=Decimal(100_000),
        valuation_date=date(2027, 1, 1),
        actor=None,
    )

    unconfirmed = supervisor.post(reverse("land:roll_approve", args=[roll.public_id]), {})
    approved = supervisor.post(
        reverse("land:roll_approve", args=[roll.public_id]), {"confirm": "on"}, follow=True
    )

    assert "Confirm that you have checked the roll." in unconfirmed.content.decode()
    assert "is approved and in force" in approved.content.decode()
    roll.refresh_from_db()
    land_world.roll.refresh_from_db()
    assert roll.status == RollStatus.PUBLISHED
    assert land_world.roll.status == RollStatus.SUPERSEDED


def test_a_land_officer_cannot_approve_a_roll(land_world: LandWorld, land_officer: Client) -> None:
    roll = create_roll(name="Draft roll 2027", valuation_date=date(2027, 1, 1), actor=None)

    response = land_officer.post(
        reverse("land:roll_approve", args=[roll.public_id]), {"confirm": "on"}
    )

    assert response.status_code == 403
    roll.refresh_from_db()
    assert roll.status == RollStatus.DRAFT


def test_a_land_officer_creates_a_draft_roll(land_world: LandWorld, land_officer: Client) -> None:
    response = land_officer.post(
        reverse("land:roll_list"),
        {"name": "Valuation roll 2027", "valuation_date": "2027-01-15"},
        follow=True,
    )

    assert "Draft roll Valuation roll 2027 is created." in response.content.decode()
    assert ValuationRoll.objects.get(name="Valuation roll 2027").status == RollStatus.DRAFT


# --- Rating and billing -------------------------------------------------------------------


def test_a_supervisor_sets_a_rating_rule(land_world: LandWorld, supervisor: Client) -> None:
    response = supervisor.post(
        reverse("land:rating_set_rule"),
        {
            "financial_year": str(FY),
            "land_use": "industrial",
            "zone": "",
            "rate_percent": "0.75",
            "minimum_charge": "1500",
        },
        follow=True,
    )

    assert "The rating rule is saved." in response.content.decode()
    rule = RatingRule.objects.get(rating_year__financial_year=FY, land_use="industrial")
    assert (rule.rate_percent, rule.minimum_charge) == (Decimal("0.7500"), Decimal("1500.00"))


def test_a_rule_for_a_year_without_terms_is_refused(
    land_world: LandWorld, supervisor: Client
) -> None:
    response = supervisor.post(
        reverse("land:rating_set_rule"),
        {"financial_year": "2031", "rate_percent": "1", "minimum_charge": "0"},
    )

    assert "Set this year&#x27;s due date and penalty first, above." in response.content.decode()
    assert not RatingRule.objects.filter(rating_year__financial_year=2031).exists()


def test_starting_the_years_billing_shows_its_progress_page(
    land_world: LandWorld,
    staff_client: Callable[..., Client],
    django_capture_on_commit_callbacks: Any,
) -> None:
    officer = staff_client(["revenue_officer"], department="revenue")
    ward = Ward.objects.get(code="0453")
    extra = ParcelFactory.create(
        number="NYANDARUA/OL KALOU/1004",
        ward=ward,
        area_hectares=Decimal(1),
        land_use=LandUse.RESIDENTIAL,
        owners=[],
    )
    ValuationRollFactory.create(
        name="Supplementary 2026",
        valuation_date=date(2026, 2, 1),
        values={
            parcel: Decimal(600_000)
            for parcel in (land_world.p1, land_world.p2, land_world.p4, extra)
        },
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = officer.post(reverse("land:billing_start"), {"financial_year": str(FY)})

    assert response.status_code == 302
    job = Job.objects.get(kind="land.bill_rates")
    assert response["Location"] == reverse("land:billing_progress", args=[job.public_id])
    html = page(officer, response["Location"])
    assert 'id="billing-state">Finished<' in html
    assert 'value="100"' in html
    # The three parcels billed before are skipped; only the new one is billed.
    assert 'id="billing-done">4 of 4<' in html
    run = BillingRun.objects.get(job=job)
    assert run.bills_created == 1
    fragment = officer.get(response["Location"], headers={"HX-Request": "true"})
    assert fragment.content.decode().lstrip().startswith('<div id="billing-progress"')


def test_billing_a_year_without_terms_is_refused_on_the_page(
    land_world: LandWorld, staff_client: Callable[..., Client]
) -> None:
    officer = staff_client(["revenue_officer"], department="revenue")

    response = officer.post(reverse("land:billing_start"), {"financial_year": "2030"})

    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
    assert not Job.objects.filter(kind="land.bill_rates").exists()


def test_the_penalty_run_charges_overdue_parcels_once_per_month(
    land_world: LandWorld, staff_client: Callable[..., Client]
) -> None:
    officer = staff_client(["revenue_officer"], department="revenue")

    first = officer.post(reverse("land:penalty_run"), {"month": "2026-11"}, follow=True)
    again = officer.post(reverse("land:penalty_run"), {"month": "2026-11"}, follow=True)

    # 1% of P1's 1,000.00 and of P4's 500.00 (the minimum charge); P2 has paid.
    assert "Penalties for 11/2026: 2 parcels charged KES 15.00." in first.content.decode()
    assert "Penalties for 11/2026: 0 parcels charged KES 0.00." in again.content.decode()
    assert ParcelCharge.objects.filter(kind=ChargeKind.PENALTY).count() == 2


# --- The public balance check -------------------------------------------------------------


def test_anyone_sees_a_parcels_balance_and_bill_number_but_not_its_owner(
    land_world: LandWorld, client: Client
) -> None:
    response = client.post(reverse("land:check_balance"), {"number": "nyandarua/ol kalou/1001"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "KES 1,000.00 to pay" in html
    assert land_world.bill_p1.number in html
    assert "Wanjiku Kamau" not in html
    assert "20000001" not in html


def test_a_paid_parcel_has_nothing_to_pay(land_world: LandWorld, client: Client) -> None:
    response = client.post(reverse("land:check_balance"), {"number": "NYANDARUA/OL KALOU/1002"})

    html = response.content.decode()
    assert "Nothing to pay" in html
    assert land_world.bill_p2.number not in html


def test_an_unknown_parcel_number_is_told_so(land_world: LandWorld, client: Client) -> None:
    response = client.post(reverse("land:check_balance"), {"number": "NYANDARUA/OL KALOU/5"})

    assert "We have no parcel with that number." in response.content.decode()


def test_the_parcel_number_hint_shows_the_register_s_own_format(
    land_world: LandWorld, client: Client
) -> None:
    html = client.get(reverse("land:check_balance")).content.decode()

    assert (
        "As on the title deed: county, registration section and number, like "
        f"{land_world.p1.number}."
    ) in html
    assert land_world.p1.number == "NYANDARUA/OL KALOU/1001"


def test_the_balance_check_is_rate_limited_per_address(
    land_world: LandWorld, client: Client, settings: Any
) -> None:
    settings.LAND_BALANCE_LOOKUPS_PER_IP_PER_HOUR = 3
    url = reverse("land:check_balance")
    answers = [
        client.post(url, {"number": "NYANDARUA/OL KALOU/1001"}, REMOTE_ADDR="196.201.1.1")
        for _attempt in range(4)
    ]
    elsewhere = client.post(url, {"number": "NYANDARUA/OL KALOU/1001"}, REMOTE_ADDR="196.201.1.2")

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert "Too many look-ups from here." in answers[3].content.decode()
    assert land_world.bill_p1.number not in answers[3].content.decode()
    assert elsewhere.status_code == 200


# --- The shell ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "home",
        "parcel_search",
        "map",
        "roll_list",
        "rating",
        "billing",
        "detail",
        "roll",
        "transfer",
    ],
)
def test_land_pages_carry_no_inline_code(
    name: str, land_world: LandWorld, supervisor: Client
) -> None:
    urls = {
        "detail": detail_url(land_world.p1),
        "roll": reverse("land:roll_detail", args=[land_world.roll.public_id]),
        "transfer": reverse("land:record_transfer", args=["NYANDARUA-OLKALOU-1001"]),
    }
    html = page(supervisor, urls.get(name) or reverse(f"land:{name}"))

    assert inline_code(html) == []


def test_the_balance_page_works_in_kiswahili(land_world: LandWorld, client: Client) -> None:
    response = client.get(reverse("land:check_balance"), headers={"Accept-Language": "sw"})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'lang="sw"' in html
    assert "Angalia salio la kodi ya ardhi ya kipande" in html
    assert "Check a parcel" not in html


def test_the_legacy_export_is_imported_with_a_report_of_every_rejected_row(
    land_world: LandWorld, land_officer: Client
) -> None:
    sample = DATA / "legacy_export_sample.csv"
    rows = list(csv.DictReader(sample.open(encoding="utf-8")))
    arrears = sum(Decimal(row["arrears"] or "0") for row in rows[:36])
    upload = SimpleUploadedFile(sample.name, sample.read_bytes(), "text/csv")

    response = land_officer.post(reverse("land:legacy_import"), {"file": upload}, follow=True)

    html = response.content.decode()
    assert response.status_code == 200
    assert "36 of 41 rows added" in html
    assert "5 rows were rejected" in html
    assert f"Opening arrears billed: KES {arrears:,.2f}" in html
    assert "the parcel number is missing" in html
    assert "the ward code 9999 is unknown" in html
    assert "the parcel is already on row 2 of this file" in html
    assert Parcel.objects.filter(number_key__startswith="NYANDARUA/OLKALOUTOWNSHIP/").count() == 36
    assert (
        ParcelCharge.objects.filter(kind=ChargeKind.ARREARS).aggregate(total=Sum("amount"))["total"]
        == arrears
    )


def test_the_staff_home_lists_the_land_pages_a_person_may_use(
    land_world: LandWorld, land_officer: Client, staff_client: Callable[..., Client]
) -> None:
    revenue = staff_client(["revenue_officer"], department="revenue")

    officer_home = page(land_officer, "/staff/")
    revenue_home = page(revenue, "/staff/")

    assert "Land: parcels and owners" in officer_home
    assert "Land: map of rates status" in officer_home
    assert "Land: rates billing" not in officer_home
    assert "Land: rates billing" in revenue_home


def test_the_public_home_page_offers_the_balance_check(client: Client) -> None:
    html = client.get("/").content.decode()

    assert f'href="{reverse("land:check_balance")}"' in html


def test_the_land_home_counts_parcels_by_status(
    land_world: LandWorld, land_officer: Client
) -> None:
    html = page(land_officer, reverse("land:home"))

    assert 'href="/staff/land/parcels/?status=paid">1<' in html
    assert 'href="/staff/land/parcels/?status=arrears">2<' in html
    assert 'href="/staff/land/parcels/?status=not_on_roll">1<' in html
