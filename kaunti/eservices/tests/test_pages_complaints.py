"""Complaint pages through HTTP: filing, following, rating and reopening; the staff inbox
and its actions; who may see what."""

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from kaunti.accounts.models import User
from kaunti.conftest import sign_in_staff
from kaunti.eservices.models import Complaint, ComplaintStatus
from kaunti.eservices.tests.conftest import png

pytestmark = pytest.mark.django_db


def citizen_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def staff_client(user: User) -> Client:
    client = Client()
    sign_in_staff(client, user)
    return client


@pytest.fixture
def filed(catalogue: None, citizen: User) -> Complaint:
    response = citizen_client(citizen).post(
        reverse("eservices:file_complaint"),
        {
            "kind": "complaint",
            "category": "water",
            "ward": "0455",
            "description": "No water at Mirangine market for three days.",
            "location_text": "Mirangine market gate",
            "photo": png("tap.png"),
        },
    )
    assert response.status_code == 302
    return Complaint.objects.get(complainant=citizen)


def test_a_citizen_files_a_complaint_and_gets_a_reference(filed: Complaint, citizen: User) -> None:
    assert filed.category.code == "water"
    assert filed.ward.code == "0455"
    assert filed.location_text == "Mirangine market gate"
    assert filed.photo_storage_name
    page = citizen_client(citizen).get(reverse("eservices:my_complaints")).content.decode()
    assert filed.reference in page


def test_a_complaint_without_a_description_is_refused_and_keeps_the_rest(
    catalogue: None, citizen: User
) -> None:
    response = citizen_client(citizen).post(
        reverse("eservices:file_complaint"),
        {"kind": "complaint", "category": "water", "ward": "0455", "location_text": "Gate"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Describe the problem or the suggestion." in body
    assert 'value="Gate"' in body
    assert Complaint.objects.count() == 0


@pytest.fixture
def water_officer(make_staff: Callable[..., User]) -> User:
    return make_staff(["approver"], department="water")


@pytest.mark.parametrize(
    ("who", "detail", "inbox"),
    [
        ("anonymous", 302, 302),
        ("another citizen", 404, 403),
        ("staff of another department", 403, 200),
        ("staff with the role", 200, 200),
    ],
)
def test_the_permission_matrix_of_complaints(
    who: str,
    detail: int,
    inbox: int,
    filed: Complaint,
    other_citizen: User,
    water_officer: User,
    make_staff: Callable[..., User],
) -> None:
    clients: dict[str, Callable[[], Client]] = {
        "anonymous": Client,
        "another citizen": lambda: citizen_client(other_citizen),
        "staff of another department": lambda: staff_client(
            make_staff(["approver"], department="lands")
        ),
        "staff with the role": lambda: staff_client(water_officer),
    }
    client = clients[who]()
    url = (
        reverse("eservices:staff_complaint", args=[filed.reference])
        if who.startswith("staff")
        else reverse("eservices:complaint_detail", args=[filed.reference])
    )
    assert client.get(url).status_code == detail
    response = client.get(reverse("eservices:staff_inbox"))
    assert response.status_code == inbox
    if inbox == 200:
        assert (filed.reference in response.content.decode()) is (who == "staff with the role")


def test_staff_resolve_and_the_citizen_rates_then_reopens(
    filed: Complaint, citizen: User, water_officer: User
) -> None:
    staff = staff_client(water_officer)
    url = reverse("eservices:staff_complaint_action", args=[filed.reference, "resolve"])
    staff.post(url, {"reason": ""})
    filed.refresh_from_db()
    assert filed.status == ComplaintStatus.OPEN
    staff.post(url, {"reason": "The pipe was repaired."})
    filed.refresh_from_db()
    assert filed.status == ComplaintStatus.RESOLVED

    client = citizen_client(citizen)
    client.post(reverse("eservices:rate_complaint", args=[filed.reference]), {"rating": "2"})
    filed.refresh_from_db()
    assert filed.rating == 2
    client.post(
        reverse("eservices:reopen_complaint", args=[filed.reference]),
        {"reason": "Dry again this morning."},
    )
    filed.refresh_from_db()
    assert filed.status == ComplaintStatus.REOPENED
    assert filed.reopen_count == 1
