"""Names where a person reads (not ward codes or document kinds), filters offered as
choices, each step of a form checked when it is sent, errors linked to their field, and
what the account holds filled in for the applicant (issue 14)."""

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from kaunti.accounts.models import User
from kaunti.conftest import sign_in_staff
from kaunti.eservices.models import Application, ApplicationStatus, Service
from kaunti.eservices.services.applications import create_draft
from kaunti.eservices.tests.conftest import UBP_ANSWERS
from kaunti.eservices.tests.factories import DraftFactory

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def section_url(application: Application, number: int) -> str:
    return reverse("eservices:edit_section", args=[application.reference, number])


# --- Names, not codes -------------------------------------------------------------------------


def test_the_check_page_names_the_ward(draft_ubp: Application, citizen: User) -> None:
    html = signed_in(citizen).get(reverse("eservices:check", args=[draft_ubp.reference]))
    body = html.content.decode()
    assert (
        '<dt class="govuk-summary-list__key">Ward of the premises</dt>'
        '<dd class="govuk-summary-list__value">Karau</dd>'
    ) in body
    assert "0453" not in body


def test_the_staff_page_names_the_ward_and_the_documents(
    in_review_ubp: Application, people: dict[str, User]
) -> None:
    client = Client()
    sign_in_staff(client, people["trade_approver"])
    body = client.get(
        reverse("eservices:staff_application", args=[in_review_ubp.reference])
    ).content.decode()
    assert (
        '<dt class="govuk-summary-list__key">Ward of the premises</dt>'
        '<dd class="govuk-summary-list__value">Karau</dd>'
    ) in body
    assert "Copy of the owner&#x27;s national ID: <a" in body
    assert "KRA PIN certificate: <a" in body
    assert "(id_copy)" not in body
    assert "(kra_certificate)" not in body
    assert "0453" not in body


def test_the_work_queue_offers_services_and_wards_by_name(
    in_review_ubp: Application, people: dict[str, User]
) -> None:
    client = Client()
    sign_in_staff(client, people["trade_approver"])
    url = reverse("eservices:staff_queue")
    body = client.get(url).content.decode()
    assert '<select name="service" class="govuk-select" id="id_service">' in body
    assert '<option value="unified-business-permit">Unified Business Permit</option>' in body
    assert '<select name="ward" class="govuk-select" id="id_ward">' in body
    assert '<option value="0453">Karau</option>' in body
    assert "Service code" not in body
    assert "Ward code" not in body

    in_karau = client.get(url, {"ward": "0453"}).content.decode()
    assert '<option value="0453" selected>Karau</option>' in in_karau
    assert in_review_ubp.reference in in_karau
    elsewhere = client.get(url, {"ward": "0441"}).content.decode()
    assert in_review_ubp.reference not in elsewhere
    other_service = client.get(url, {"service": "liquor-licence"}).content.decode()
    assert in_review_ubp.reference not in other_service
    this_service = client.get(url, {"service": "unified-business-permit"}).content.decode()
    assert in_review_ubp.reference in this_service


# --- Each step checked when it is sent --------------------------------------------------------


def test_a_step_sent_on_without_a_required_answer_stays_with_a_linked_error(
    ubp: Service, citizen: User
) -> None:
    application = DraftFactory.create(applicant=citizen, service=ubp)
    client = signed_in(citizen)
    # Step 2 is the business: its name is required.
    answers = {**UBP_ANSWERS, "business_name": ""}
    response = client.post(section_url(application, 2), answers)
    assert response.status_code == 200
    body = response.content.decode()
    assert '<li><a href="#id_business_name">Business name: this is required.</a></li>' in body
    assert 'id="id_business_name"' in body
    application.refresh_from_db()
    assert "business_name" not in application.answers or application.answers["business_name"] == ""
    # The other answers of the step are kept, as with any wrong answer.
    assert application.answers["kra_pin"] == "A012345678B"


def test_a_complete_step_goes_on_to_the_next(ubp: Service, citizen: User) -> None:
    application = DraftFactory.create(applicant=citizen, service=ubp)
    response = signed_in(citizen).post(section_url(application, 2), UBP_ANSWERS)
    assert response.status_code == 302
    assert response["Location"] == section_url(application, 3)


def test_saving_to_come_back_later_keeps_a_half_done_step(ubp: Service, citizen: User) -> None:
    application = DraftFactory.create(applicant=citizen, service=ubp)
    response = signed_in(citizen).post(
        section_url(application, 2), {"business_name": "", "save_and_leave": ""}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "eservices:application_detail", args=[application.reference]
    )


def test_the_check_page_links_each_problem_to_what_to_fix(ubp: Service, citizen: User) -> None:
    application = DraftFactory.create(
        applicant=citizen, service=ubp, answers={**UBP_ANSWERS, "business_name": ""}
    )
    client = signed_in(citizen)
    response = client.post(reverse("eservices:check", args=[application.reference]))
    assert response.status_code == 200
    body = response.content.decode()
    step_2 = section_url(application, 2)
    documents = reverse("eservices:documents", args=[application.reference])
    assert (
        f'<li><a href="{step_2}#id_business_name">Business name: this is required.</a></li>' in body
    )
    assert (
        f'<li><a href="{documents}#file-id_copy">'
        "Copy of the owner&#x27;s national ID: upload this document.</a></li>"
    ) in body
    assert 'id="file-id_copy"' in client.get(documents).content.decode()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.DRAFT
    assert application.bill is None


# --- What the account holds ---------------------------------------------------------------------


def test_a_new_application_is_filled_in_with_what_the_account_holds(
    catalogue: None, citizen: User
) -> None:
    User.objects.filter(pk=citizen.pk).update(national_id="12345678")
    citizen.refresh_from_db()
    client = signed_in(citizen)
    client.post(reverse("eservices:start_application", args=["food-handler-certificate"]))
    application = Application.objects.get(applicant=citizen)
    assert application.answers == {
        "full_name": "Wanjiku Kamau",
        "national_id": "12345678",
        "contact_phone": "254712000111",
    }
    body = client.get(section_url(application, 1)).content.decode()
    assert 'value="Wanjiku Kamau"' in body
    assert 'value="12345678"' in body


def test_an_account_without_an_id_number_leaves_it_to_be_typed(ubp: Service, citizen: User) -> None:
    application = create_draft(applicant=citizen, service=ubp)
    assert application.answers == {"contact_phone": "254712000111"}


def test_the_filters_refuse_a_service_that_is_not_offered(
    in_review_ubp: Application, make_staff: Callable[..., User]
) -> None:
    client = Client()
    sign_in_staff(client, make_staff(["approver"], department="trade"))
    response = client.get(reverse("eservices:staff_queue"), {"service": "no-such-service"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Select a valid choice." in body
    assert in_review_ubp.reference in body  # not filtered by a choice nobody can make


def test_a_refused_upload_is_linked_to_its_own_file_field(
    draft_ubp: Application, citizen: User
) -> None:
    response = signed_in(citizen).post(
        reverse("eservices:documents", args=[draft_ubp.reference]),
        {"kind": "kra_certificate"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert '<li><a href="#file-kra_certificate">Choose the file to upload.</a></li>' in body
    assert 'id="file-kra_certificate"' in body
    assert 'href="#id_file"' not in body


def test_the_applicant_sees_each_document_by_its_name(
    draft_ubp: Application, citizen: User
) -> None:
    body = (
        signed_in(citizen)
        .get(reverse("eservices:application_detail", args=[draft_ubp.reference]))
        .content.decode()
    )
    assert "<li>Copy of the owner&#x27;s national ID: <a" in body
    assert "<li>KRA PIN certificate: <a" in body
    assert "id_copy" not in body
