"""Starting an application in one API call: the draft, answers, documents and submission
together, and what is kept when part of it is refused."""

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kaunti.accounts.models import User
from kaunti.conftest import sign_in_staff
from kaunti.eservices.models import Application, ApplicationStatus
from kaunti.eservices.tests.conftest import UBP_ANSWERS, pdf, stored_files
from kaunti.payments.models import Bill

pytestmark = pytest.mark.django_db

API = "/api/v1"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def start(client: Client, **fields: object) -> dict:
    form = {"service": "unified-business-permit", **fields}
    response = client.post(f"{API}/applications/", form)
    assert response.status_code == 201, response.content
    return response.json()


def test_one_call_takes_the_answers_documents_and_submission_to_a_bill(
    ubp: object, citizen: User
) -> None:
    body = start(
        signed_in(citizen),
        answers=json.dumps(UBP_ANSWERS),
        id_copy=pdf(),
        kra_certificate=pdf(),
        submit="true",
    )
    assert body["errors"] == {}
    assert body["status"] == "submitted"
    application = Application.objects.get(reference=body["reference"])
    bill = Bill.objects.get(number=body["bill_number"])
    assert bill.total == application.fee_total > 0
    assert str(application.fee_total) == body["fee_total"]
    assert {d.kind for d in application.documents.all()} == {"id_copy", "kra_certificate"}
    assert application.answers["business_name"] == UBP_ANSWERS["business_name"]


def test_json_with_answers_saves_a_draft_as_the_patch_would(ubp: object, citizen: User) -> None:
    response = signed_in(citizen).post(
        f"{API}/applications/",
        {"service": "unified-business-permit", "answers": {**UBP_ANSWERS, "kra_pin": "WRONG"}},
        "application/json",
    )
    assert response.status_code == 201
    body = response.json()
    assert list(body["errors"]) == ["kra_pin"]
    assert body["status"] == "draft"
    # What was typed is kept, the wrong answer too, for the citizen to correct.
    assert body["answers"]["kra_pin"] == "WRONG"
    assert body["answers"]["business_name"] == UBP_ANSWERS["business_name"]


def test_a_wrong_answer_keeps_the_draft_and_its_documents_and_does_not_submit(
    ubp: object, citizen: User
) -> None:
    body = start(
        signed_in(citizen),
        answers=json.dumps({**UBP_ANSWERS, "kra_pin": "WRONG"}),
        id_copy=pdf(),
        kra_certificate=pdf(),
        submit="true",
    )
    assert list(body["errors"]) == ["kra_pin"]
    application = Application.objects.get(reference=body["reference"])
    assert application.status == ApplicationStatus.DRAFT
    assert application.bill_id is None
    assert application.documents.count() == 2


def test_a_refused_document_is_named_stores_nothing_and_the_rest_is_kept(
    ubp: object, citizen: User, media_root: Path
) -> None:
    before = stored_files(media_root)
    body = start(
        signed_in(citizen),
        answers=json.dumps(UBP_ANSWERS),
        id_copy=SimpleUploadedFile("a.pdf", b"MZ\x90\x00" + b"\0" * 64),
        submit="true",
    )
    assert list(body["errors"]) == ["id_copy"]
    assert body["status"] == "draft"
    application = Application.objects.get(reference=body["reference"])
    assert application.documents.count() == 0
    assert application.answers["business_name"] == UBP_ANSWERS["business_name"]
    assert stored_files(media_root) == before


def test_a_missing_document_refuses_the_submission_and_says_which(
    ubp: object, citizen: User
) -> None:
    body = start(signed_in(citizen), answers=json.dumps(UBP_ANSWERS), id_copy=pdf(), submit="true")
    assert list(body["errors"]) == ["kra_certificate"]
    assert body["status"] == "draft"
    assert body["bill_number"] is None


def test_a_document_the_service_does_not_ask_for_is_named(ubp: object, citizen: User) -> None:
    body = start(signed_in(citizen), title_deed=pdf())
    assert "title_deed" in body["errors"]


@pytest.mark.parametrize("answers", ["{not json", "[1, 2]", '{"a": {"nested": 1}}'])
def test_answers_that_are_not_an_object_of_texts_are_a_problem_and_create_nothing(
    ubp: object, citizen: User, answers: str
) -> None:
    response = signed_in(citizen).post(
        f"{API}/applications/", {"service": "unified-business-permit", "answers": answers}
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "answers" in response.json()["errors"]
    assert not Application.objects.filter(applicant=citizen).exists()


def test_staff_and_anonymous_callers_cannot_start_one(ubp: object, people: dict[str, User]) -> None:
    staff = Client()
    sign_in_staff(staff, people["trade_approver"])
    form = {"service": "unified-business-permit", "submit": "true"}
    assert staff.post(f"{API}/applications/", form).status_code == 403
    assert Client().post(f"{API}/applications/", form).status_code == 401
    assert not Application.objects.exists()
