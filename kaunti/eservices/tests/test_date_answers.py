"""A date asked by an application form: day, month and year boxes, read day first."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from kaunti.accounts.models import User
from kaunti.eservices.models import Application, Service
from kaunti.eservices.tests.factories import DraftFactory

pytestmark = pytest.mark.django_db


def _section_with(client: Client, application: Application, name: str) -> tuple[str, str]:
    """The URL and page of the form step that asks for `name`."""
    for number in range(1, 10):
        url = reverse("eservices:edit_section", args=[application.reference, number])
        page = client.get(url).content.decode()
        if f'name="{name}_day"' in page:
            return url, page
    raise AssertionError(f"no step asks for {name}")


@pytest.fixture
def draft(catalogue: None, citizen: User) -> Application:
    service = Service.objects.get(code="food-handler-certificate")
    return DraftFactory.create(applicant=citizen, service=service)


def test_a_date_of_birth_is_typed_in_three_boxes_and_kept_as_a_date(
    client: Client, citizen: User, draft: Application
) -> None:
    client.force_login(citizen)
    url, page = _section_with(client, draft, "date_of_birth")
    assert 'type="date"' not in page

    client.post(
        url, {"date_of_birth_day": "7", "date_of_birth_month": "12", "date_of_birth_year": "1990"}
    )

    draft.refresh_from_db()
    assert draft.answers["date_of_birth"] == "1990-12-07"
    _url, again = _section_with(client, draft, "date_of_birth")
    boxes = re.findall(r'name="(date_of_birth_\w+)" value="(\d+)"', again)
    assert boxes == [
        ("date_of_birth_day", "7"),
        ("date_of_birth_month", "12"),
        ("date_of_birth_year", "1990"),
    ]


def test_an_impossible_date_is_refused_keeping_what_was_typed(
    client: Client, citizen: User, draft: Application
) -> None:
    client.force_login(citizen)
    url, _page = _section_with(client, draft, "date_of_birth")
    before = dict(Application.objects.get(pk=draft.pk).answers)

    page = client.post(
        url, {"date_of_birth_day": "30", "date_of_birth_month": "2", "date_of_birth_year": "1990"}
    ).content.decode()

    assert "Enter a real date, for example 7 12 2026." in page
    boxes = re.findall(r'name="(date_of_birth_\w+)" value="(\d+)"', page)
    assert boxes == [
        ("date_of_birth_day", "30"),
        ("date_of_birth_month", "2"),
        ("date_of_birth_year", "1990"),
    ]
    draft.refresh_from_db()
    assert draft.answers == before
