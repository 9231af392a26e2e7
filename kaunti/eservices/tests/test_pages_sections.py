"""The application form's steps carry the headings the catalogue gives them, in both
languages; a renewal's documents page marks last year's documents optional."""

import pytest
from django.test import Client
from django.urls import reverse

from kaunti.accounts.models import User
from kaunti.eservices.models import Application, Service
from kaunti.eservices.tests.factories import DraftFactory
from kaunti.eservices.tests.test_renewals import last_years_permit  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def signed_in(user: User, language: str = "en") -> Client:
    """A client of `user`, who chose `language` on their account."""
    User.objects.filter(pk=user.pk).update(preferred_language=language)
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


@pytest.mark.parametrize(
    ("language", "titles"),
    [
        ("en", ["About your application", "Your business", "Where you trade", "The owner"]),
        ("sw", ["Kuhusu ombi lako", "Biashara yako", "Mahali pa biashara", "Mmiliki"]),
    ],
)
def test_each_step_of_the_form_has_its_catalogue_heading(
    ubp: Service, citizen: User, language: str, titles: list[str]
) -> None:
    application = DraftFactory.create(applicant=citizen, service=ubp)
    client = signed_in(citizen, language)
    headings = []
    for number in range(1, len(titles) + 1):
        page = client.get(
            reverse("eservices:edit_section", args=[application.reference, number]),
            HTTP_ACCEPT_LANGUAGE=language,
        ).content.decode()
        headings.append(page.split('<h1 class="govuk-heading-l">', 1)[1].split("</h1>", 1)[0])
    assert headings == titles


def test_the_api_lists_the_sections_of_a_service(ubp: Service, client: Client) -> None:
    detail = client.get("/api/v1/services/unified-business-permit/").json()
    assert [section["code"] for section in detail["sections"]] == [
        "about",
        "business",
        "premises",
        "owner",
        "documents",
    ]
    assert {d["kind"]: d["required_on_renewal"] for d in detail["documents"]} == {
        "id_copy": False,
        "kra_certificate": False,
        "lease_or_title": False,
    }


def test_a_renewal_s_documents_page_marks_last_year_s_documents_optional(
    last_years_permit: Application,  # noqa: F811
    citizen: User,
) -> None:
    renewal = DraftFactory.create(
        applicant=citizen, service=last_years_permit.service, renewal_of=last_years_permit
    )
    page = signed_in(citizen).get(reverse("eservices:documents", args=[renewal.reference]))
    html = page.content.decode()
    assert "KRA PIN certificate (optional)" in html
    assert "Copy of the owner&#x27;s national ID (optional)" in html
