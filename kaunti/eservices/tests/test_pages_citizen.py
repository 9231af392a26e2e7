"""Citizen pages through HTTP: the catalogue, applying in steps, documents, fees, submission,
the application page, returned for changes, and who may see what."""

from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from kaunti.accounts.models import User
from kaunti.eservices.models import Application, ApplicationDocument, ApplicationStatus, Service
from kaunti.eservices.services.workflow.actions import approve_step, return_for_changes
from kaunti.eservices.services.workflow.inspections import record_inspection_result
from kaunti.eservices.tests.conftest import UBP_ANSWERS, pdf, step, stored_files

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def fill_in(client: Client, application: Application, answers: dict[str, str]) -> None:
    """Answer every step of the form, as the pages offer them one after the other."""
    number = 1
    while True:
        url = reverse("eservices:edit_section", args=[application.reference, number])
        response = client.post(url, answers)
        assert response.status_code == 302, response.content.decode()[:2000]
        if "/answers/" not in response["Location"]:
            return
        number += 1


def test_the_catalogue_lists_and_searches_services(ubp: Service, client: Client) -> None:
    page = client.get(reverse("eservices:service_list")).content.decode()
    assert "Unified Business Permit" in page
    assert "Liquor Licence" in page or "Liquor" in page

    found = client.get(reverse("eservices:service_list"), {"q": "liquor"}).content.decode()
    assert "Liquor" in found
    assert "Unified Business Permit" not in found


def test_the_catalogue_is_shown_in_kiswahili(ubp: Service, client: Client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sw"
    page = client.get(reverse("eservices:service_detail", args=[ubp.code])).content.decode()
    assert ubp.name_sw
    assert ubp.name_sw in page


def test_the_service_page_shows_documents_and_fees(ubp: Service, client: Client) -> None:
    response = client.get(reverse("eservices:service_detail", args=[ubp.code]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Documents you need" in page
    assert "Sign in to apply" in page
    assert client.get(reverse("eservices:service_detail", args=["no-such"])).status_code == 404


def test_a_citizen_applies_sees_the_fee_line_by_line_and_submits_to_a_bill(
    ubp: Service, citizen: User
) -> None:
    client = signed_in(citizen)
    response = client.post(reverse("eservices:start_application", args=[ubp.code]))
    application = Application.objects.get(applicant=citizen)
    assert response["Location"] == reverse(
        "eservices:edit_section", args=[application.reference, 1]
    )
    fill_in(client, application, UBP_ANSWERS)
    for kind in ("id_copy", "kra_certificate"):
        response = client.post(
            reverse("eservices:documents", args=[application.reference]),
            {"kind": kind, "file": pdf(f"{kind}.pdf")},
        )
        assert response.status_code == 302
    check = client.get(reverse("eservices:check", args=[application.reference]))
    page = check.content.decode()
    assert "Mama Njeri Salon" in page
    assert "Total" in page
    application.refresh_from_db()
    assert application.status == ApplicationStatus.DRAFT

    response = client.post(reverse("eservices:check", args=[application.reference]))
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED
    assert application.bill is not None
    detail = client.get(response["Location"]).content.decode()
    assert reverse("payments:pay_bill", args=[application.bill.number]) in detail
    for line in application.bill.lines.all():
        assert f"{line.amount:,.2f}" in detail


def test_save_and_come_back_keeps_the_answers(ubp: Service, citizen: User) -> None:
    client = signed_in(citizen)
    client.post(reverse("eservices:start_application", args=[ubp.code]))
    application = Application.objects.get(applicant=citizen)
    url = reverse("eservices:edit_section", args=[application.reference, 1])
    response = client.post(url, {**UBP_ANSWERS, "save_and_leave": ""})
    assert response["Location"] == reverse(
        "eservices:application_detail", args=[application.reference]
    )
    application.refresh_from_db()
    assert application.answers["application_type"] == "new"
    assert 'value="new" selected' in client.get(url).content.decode()


def test_a_wrong_answer_is_explained_and_what_was_typed_is_kept(
    draft_ubp: Application, citizen: User
) -> None:
    client = signed_in(citizen)
    page = 1
    while (
        "kra_pin"
        not in client.get(
            reverse("eservices:edit_section", args=[draft_ubp.reference, page])
        ).content.decode()
    ):
        page += 1
    url = reverse("eservices:edit_section", args=[draft_ubp.reference, page])
    response = client.post(url, {**UBP_ANSWERS, "kra_pin": "NOT-A-PIN"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in body
    assert 'value="NOT-A-PIN"' in body


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("tool.pdf", b"MZ\x90\x00" + b"\x00" * 200), "PDF"),
        (SimpleUploadedFile("big.pdf", b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024)), "MB"),
    ],
    ids=["executable renamed .pdf", "oversized"],
)
def test_a_refused_upload_says_why_and_stores_nothing(
    upload: SimpleUploadedFile,
    message: str,
    draft_ubp: Application,
    citizen: User,
    media_root: Path,
) -> None:
    client = signed_in(citizen)
    before = stored_files(media_root)
    documents_before = ApplicationDocument.objects.count()
    response = client.post(
        reverse("eservices:documents", args=[draft_ubp.reference]),
        {"kind": "id_copy", "file": upload},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in body
    assert message in body
    assert "govuk-file-upload--error" in body
    assert stored_files(media_root) == before
    assert ApplicationDocument.objects.count() == documents_before


def test_submitting_an_incomplete_application_lists_what_is_missing(
    ubp: Service, citizen: User
) -> None:
    client = signed_in(citizen)
    client.post(reverse("eservices:start_application", args=[ubp.code]))
    application = Application.objects.get(applicant=citizen)
    response = client.post(reverse("eservices:check", args=[application.reference]))
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.DRAFT
    assert application.bill is None


def test_returned_for_changes_is_answered_and_resubmitted(
    in_review_ubp: Application, citizen: User, people: dict[str, User]
) -> None:
    return_for_changes(
        step=step(in_review_ubp, "review"),
        actor=people["trade_approver"],
        note="Give the plot number in the location.",
    )
    client = signed_in(citizen)
    detail = client.get(reverse("eservices:application_detail", args=[in_review_ubp.reference]))
    assert "Give the plot number in the location." in detail.content.decode()
    fill_in(
        client,
        in_review_ubp,
        {**UBP_ANSWERS, "premises_location": "Ol Kalou town, Kenyatta Avenue, plot 12"},
    )
    response = client.post(
        reverse("eservices:check", args=[in_review_ubp.reference]), {"note": "Added the plot."}
    )
    assert response.status_code == 302
    in_review_ubp.refresh_from_db()
    assert in_review_ubp.status == ApplicationStatus.IN_REVIEW
    assert in_review_ubp.answers["premises_location"].endswith("plot 12")


def test_the_issued_document_is_only_there_once_issued(
    in_review_ubp: Application, citizen: User
) -> None:
    client = signed_in(citizen)
    url = reverse("eservices:issued_document_pdf", args=[in_review_ubp.reference])
    assert client.get(url).status_code == 404


VIEWERS: dict[str, Callable[[dict[str, User], User, User], Client]] = {
    "anonymous": lambda people, citizen, other: Client(),
    "another citizen": lambda people, citizen, other: signed_in(other),
    "staff of another department": lambda people, citizen, other: signed_in(
        people["lands_approver"]
    ),
    "the applicant": lambda people, citizen, other: signed_in(citizen),
}
EXPECTED_STATUS = {
    "anonymous": 302,
    "another citizen": 404,
    "staff of another department": 404,
    "the applicant": 200,
}


@pytest.mark.parametrize("who", list(VIEWERS))
def test_the_permission_matrix_of_the_citizen_application_pages(
    who: str,
    in_review_ubp: Application,
    people: dict[str, User],
    citizen: User,
    other_citizen: User,
) -> None:
    client = VIEWERS[who](people, citizen, other_citizen)
    document = in_review_ubp.documents.first()
    assert document is not None
    reference = in_review_ubp.reference
    for url in (
        reverse("eservices:application_detail", args=[reference]),
        reverse("eservices:download_document", args=[document.public_id]),
    ):
        response = client.get(url)
        assert response.status_code == EXPECTED_STATUS[who], url
    before = in_review_ubp.answers
    response = client.post(
        reverse("eservices:edit_section", args=[reference, 1]), {"business_name": "Hijacked"}
    )
    assert response.status_code in (302, 404)
    in_review_ubp.refresh_from_db()
    assert in_review_ubp.answers == before


def test_my_applications_lists_only_mine(
    in_review_ubp: Application, citizen: User, other_citizen: User
) -> None:
    assert (
        in_review_ubp.reference
        in signed_in(citizen).get(reverse("eservices:my_applications")).content.decode()
    )
    assert (
        in_review_ubp.reference
        not in signed_in(other_citizen).get(reverse("eservices:my_applications")).content.decode()
    )


def test_the_applicant_downloads_the_issued_permit(
    in_review_ubp: Application, citizen: User, people: dict[str, User]
) -> None:
    approve_step(step=step(in_review_ubp, "review"), actor=people["trade_approver"])
    from_health = step(in_review_ubp, "inspection-health")
    from_fire = step(in_review_ubp, "inspection-fire")
    record_inspection_result(
        step=from_health, actor=people["health_inspector"], passed=True, notes=""
    )
    record_inspection_result(step=from_fire, actor=people["fire_inspector"], passed=True, notes="")
    approve_step(step=step(in_review_ubp, "approval"), actor=people["second_trade_approver"])
    response = signed_in(citizen).get(
        reverse("eservices:issued_document_pdf", args=[in_review_ubp.reference])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
