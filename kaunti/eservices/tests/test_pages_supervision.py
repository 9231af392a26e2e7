"""The public home page's link to the catalogue, the supervisor's overdue steps page, and
the complaints inbox's filters and assignment, through HTTP."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kaunti.accounts.models import User
from kaunti.conftest import sign_in_staff
from kaunti.core.models import Ward
from kaunti.eservices.models import (
    Application,
    ApplicationStep,
    Complaint,
    ComplaintCategory,
    ComplaintEvent,
)
from kaunti.eservices.services.complaints.filing import file_complaint
from kaunti.eservices.tests.conftest import step

pytestmark = pytest.mark.django_db


def staff_client(user: User) -> Client:
    client = Client()
    sign_in_staff(client, user)
    return client


# --- Home page ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "label"),
    [("en", "Permits, licences and certificates"), ("sw", "Vibali, leseni na vyeti")],
)
def test_an_anonymous_visitor_finds_the_catalogue_from_the_home_page(
    reference_data: None, client: Client, language: str, label: str
) -> None:
    client.cookies["django_language"] = language
    page = client.get("/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f'href="/services/">{label}</a>' in page
    assert client.get("/services/").status_code == 200


# --- Overdue steps -----------------------------------------------------------------------------


def make_overdue(application: Application, code: str, hours: int) -> ApplicationStep:
    overdue = step(application, code)
    ApplicationStep.objects.filter(pk=overdue.pk).update(
        due_at=timezone.now() - timedelta(hours=hours)
    )
    return overdue


def test_a_supervisor_sees_overdue_steps_of_their_department_with_a_reassign_link(
    in_review_ubp: Application, people: dict[str, User]
) -> None:
    make_overdue(in_review_ubp, "review", hours=50)
    page = staff_client(people["trade_supervisor"]).get(reverse("eservices:staff_overdue"))
    assert page.status_code == 200
    html = page.content.decode()
    assert in_review_ubp.reference in html
    assert "Unified Business Permit" in html
    assert "Karau" in html  # the ward of the premises, 0453
    assert "Review by the trade office" in html
    assert "Nobody (the whole team)" in html
    assert "2\xa0days, 2\xa0hours" in html
    reassign = reverse("eservices:staff_application", args=[in_review_ubp.reference])
    assert f'href="{reassign}#step-review">Reassign' in html


def test_a_step_not_yet_due_is_not_listed(
    in_review_ubp: Application, people: dict[str, User]
) -> None:
    html = staff_client(people["trade_supervisor"]).get(reverse("eservices:staff_overdue"))
    assert in_review_ubp.reference not in html.content.decode()
    assert "Nothing is overdue." in html.content.decode()


def test_a_supervisor_of_another_department_does_not_see_them(
    in_review_ubp: Application, make_staff: Callable[..., User]
) -> None:
    make_overdue(in_review_ubp, "review", hours=5)
    lands_supervisor = make_staff(["supervisor"], department="lands")
    html = staff_client(lands_supervisor).get(reverse("eservices:staff_overdue")).content.decode()
    assert in_review_ubp.reference not in html


@pytest.mark.parametrize(
    ("who", "expected"),
    [("anonymous", 302), ("a citizen", 403), ("trade_approver", 403), ("health_inspector", 403)],
)
def test_only_supervisors_open_the_overdue_page(
    in_review_ubp: Application, people: dict[str, User], citizen: User, who: str, expected: int
) -> None:
    if who == "anonymous":
        client = Client()
    elif who == "a citizen":
        client = Client()
        client.force_login(citizen)
    else:
        client = staff_client(people[who])
    assert client.get(reverse("eservices:staff_overdue")).status_code == expected


def test_the_staff_home_links_the_overdue_page_for_supervisors_only(
    in_review_ubp: Application, people: dict[str, User]
) -> None:
    url = reverse("eservices:staff_overdue")
    supervisor_home = staff_client(people["trade_supervisor"]).get("/staff/", follow=True)
    approver_home = staff_client(people["trade_approver"]).get("/staff/", follow=True)
    assert url in supervisor_home.content.decode()
    assert url not in approver_home.content.decode()


# --- Complaints inbox ---------------------------------------------------------------------------


@pytest.fixture
def complaints(catalogue: None, citizen: User) -> dict[str, Complaint]:
    def filed(category: str, ward: str, text: str) -> Complaint:
        return file_complaint(
            complainant=citizen,
            category=ComplaintCategory.objects.get(code=category),
            ward=Ward.objects.get(code=ward),
            description=text,
        )

    made = {
        "market_karau": filed("markets", "0453", "Market roof leaks."),
        "market_leshau": filed("markets", "0462", "No toilets at Leshau market."),
        "permit_karau": filed("permits", "0453", "My permit application is slow."),
    }
    Complaint.objects.filter(pk=made["market_leshau"].pk).update(
        due_at=timezone.now() - timedelta(hours=3)
    )
    return made


def inbox(client: Client, **filters: str) -> str:
    response = client.get(reverse("eservices:staff_inbox"), filters)
    assert response.status_code == 200
    return response.content.decode()


def listed(html: str, made: dict[str, Complaint]) -> list[str]:
    return sorted(name for name, complaint in made.items() if complaint.reference in html)


def test_the_inbox_filters_by_ward_category_and_status(
    complaints: dict[str, Complaint], people: dict[str, User]
) -> None:
    client = staff_client(people["trade_supervisor"])
    assert listed(inbox(client), complaints) == ["market_karau", "market_leshau", "permit_karau"]
    assert listed(inbox(client, ward="0453"), complaints) == ["market_karau", "permit_karau"]
    assert listed(inbox(client, category="markets"), complaints) == [
        "market_karau",
        "market_leshau",
    ]
    assert listed(inbox(client, ward="0453", category="permits"), complaints) == ["permit_karau"]
    assert listed(inbox(client, status="resolved"), complaints) == []
    assert listed(inbox(client, status="open"), complaints) == [
        "market_karau",
        "market_leshau",
        "permit_karau",
    ]
    assert listed(inbox(client, overdue="on"), complaints) == ["market_leshau"]


def test_an_overdue_complaint_is_highlighted(
    complaints: dict[str, Complaint], people: dict[str, User]
) -> None:
    html = inbox(staff_client(people["trade_supervisor"]))
    rows = html.split('<tr class="govuk-table__row"')
    overdue_rows = [row for row in rows if 'data-overdue="yes"' in row]
    assert len(overdue_rows) == 1
    assert complaints["market_leshau"].reference in overdue_rows[0]
    assert "govuk-tag--red" in overdue_rows[0]


def test_a_supervisor_assigns_a_complaint_to_an_officer_of_the_department(
    complaints: dict[str, Complaint], people: dict[str, User]
) -> None:
    complaint = complaints["market_karau"]
    client = staff_client(people["trade_supervisor"])
    detail = reverse("eservices:staff_complaint", args=[complaint.reference])
    page = client.get(detail).content.decode()
    officer = people["trade_approver"]
    assert f'<option value="{officer.pk}">{officer.full_name}</option>' in page
    assert people["health_inspector"].full_name not in page  # not of this department

    response = client.post(
        reverse("eservices:staff_complaint_action", args=[complaint.reference, "assign"]),
        {"assignee": officer.pk},
        follow=True,
    )
    assert response.status_code == 200
    complaint.refresh_from_db()
    assert complaint.assigned_to == officer
    assert f"assigned to {officer.full_name}" in response.content.decode()
    assert ComplaintEvent.objects.filter(complaint=complaint, kind="assigned").count() == 1


def test_someone_who_is_not_a_supervisor_cannot_assign(
    complaints: dict[str, Complaint], people: dict[str, User]
) -> None:
    complaint = complaints["market_karau"]
    client = staff_client(people["trade_approver"])
    page = client.get(reverse("eservices:staff_complaint", args=[complaint.reference]))
    assert "Give it to" not in page.content.decode()
    response = client.post(
        reverse("eservices:staff_complaint_action", args=[complaint.reference, "assign"]),
        {"assignee": people["second_trade_approver"].pk},
    )
    assert response.status_code == 403
    complaint.refresh_from_db()
    assert complaint.assigned_to is None
    assert not ComplaintEvent.objects.filter(complaint=complaint, kind="assigned").exists()
