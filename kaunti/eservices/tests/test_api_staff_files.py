"""The API's reassignment of a step (supervisors) and its downloads of an application's
documents and issued document (applicant and permitted staff), with their permission
matrices and their place in the OpenAPI schema."""

from collections.abc import Callable

import pytest
from django.test import Client

from kaunti.accounts.models import User
from kaunti.conftest import sign_in_staff
from kaunti.eservices.models import Application, ApplicationEvent, ApplicationStatus
from kaunti.eservices.tests.conftest import PDF_BYTES, step
from kaunti.eservices.tests.factories import DraftFactory
from kaunti.eservices.tests.test_renewals import issue

pytestmark = pytest.mark.django_db

API = "/api/v1"


def citizen_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def staff_client(user: User) -> Client:
    client = Client()
    sign_in_staff(client, user)
    return client


Who = Callable[[dict[str, User], User, User], Client]
VIEWERS: dict[str, Who] = {
    "anonymous": lambda people, citizen, other: Client(),
    "another citizen": lambda people, citizen, other: citizen_client(other),
    "staff of another department": lambda people, citizen, other: staff_client(
        people["lands_approver"]
    ),
    "staff of the department without the role": lambda people, citizen, other: staff_client(
        people["trade_approver"]
    ),
    "staff with the role": lambda people, citizen, other: staff_client(people["trade_supervisor"]),
    "the applicant": lambda people, citizen, other: citizen_client(citizen),
}


def reassign_url(application: Application, code: str = "review") -> str:
    return f"{API}/applications/{application.reference}/steps/{code}/assignee/"


REASSIGN_EXPECTED = {
    "anonymous": 401,
    "another citizen": 403,
    "staff of another department": 403,
    "staff of the department without the role": 403,
    "staff with the role": 200,
    "the applicant": 403,
}


@pytest.mark.parametrize("who", list(VIEWERS))
def test_the_permission_matrix_of_reassigning_a_step(
    who: str,
    in_review_ubp: Application,
    people: dict[str, User],
    citizen: User,
    other_citizen: User,
) -> None:
    client = VIEWERS[who](people, citizen, other_citizen)
    officer = people["second_trade_approver"]
    response = client.post(
        reassign_url(in_review_ubp), {"assignee": officer.username}, "application/json"
    )
    assert response.status_code == REASSIGN_EXPECTED[who], response.content
    review = step(in_review_ubp, "review")
    if who == "staff with the role":
        assert response.json() == {
            "application": in_review_ubp.reference,
            "step": "review",
            "status": "open",
            "assignee": officer.username,
            "due_at": response.json()["due_at"],
        }
        assert review.assigned_to == officer
    else:
        assert review.assigned_to is None
        assert not ApplicationEvent.objects.filter(kind="reassigned").exists()


def test_a_step_cannot_go_to_someone_without_its_role(
    in_review_ubp: Application, people: dict[str, User]
) -> None:
    client = staff_client(people["trade_supervisor"])
    response = client.post(
        reassign_url(in_review_ubp),
        {"assignee": people["health_inspector"].username},
        "application/json",
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert step(in_review_ubp, "review").assigned_to is None
    unknown = client.post(reassign_url(in_review_ubp), {"assignee": "nobody"}, "application/json")
    assert unknown.status_code == 400
    missing = client.post(reassign_url(in_review_ubp, "no-such-step"), {}, "application/json")
    assert missing.status_code == 404


def test_a_supervisor_gives_a_step_back_to_the_whole_team(
    in_review_ubp: Application, people: dict[str, User]
) -> None:
    client = staff_client(people["trade_supervisor"])
    officer = people["second_trade_approver"]
    client.post(reassign_url(in_review_ubp), {"assignee": officer.username}, "application/json")
    response = client.post(reassign_url(in_review_ubp), {"assignee": ""}, "application/json")
    assert response.status_code == 200
    assert response.json()["assignee"] is None
    assert step(in_review_ubp, "review").assigned_to is None


DOWNLOAD_EXPECTED = {
    "anonymous": 401,
    "another citizen": 404,
    "staff of another department": 403,
    "staff of the department without the role": 200,  # approvers may view applications
    "staff with the role": 200,
    "the applicant": 200,
}


@pytest.mark.parametrize("who", list(VIEWERS))
def test_the_permission_matrix_of_downloading_a_document(
    who: str,
    in_review_ubp: Application,
    people: dict[str, User],
    citizen: User,
    other_citizen: User,
) -> None:
    document = in_review_ubp.documents.get(kind="id_copy")
    client = VIEWERS[who](people, citizen, other_citizen)
    response = client.get(
        f"{API}/applications/{in_review_ubp.reference}/documents/{document.public_id}/"
    )
    assert response.status_code == DOWNLOAD_EXPECTED[who]
    if response.status_code == 200:
        assert b"".join(response.streaming_content) == PDF_BYTES  # type: ignore[attr-defined]
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == 'attachment; filename="id.pdf"'


def test_a_document_is_only_found_under_its_own_application(
    in_review_ubp: Application, ubp: object, citizen: User
) -> None:
    other = DraftFactory.create(applicant=citizen, service=in_review_ubp.service)
    document = in_review_ubp.documents.get(kind="id_copy")
    response = citizen_client(citizen).get(
        f"{API}/applications/{other.reference}/documents/{document.public_id}/"
    )
    assert response.status_code == 404


@pytest.mark.parametrize("who", list(VIEWERS))
def test_the_permission_matrix_of_downloading_the_issued_permit(
    who: str,
    in_review_ubp: Application,
    people: dict[str, User],
    citizen: User,
    other_citizen: User,
) -> None:
    issued = issue(in_review_ubp, people)
    client = VIEWERS[who](people, citizen, other_citizen)
    response = client.get(f"{API}/applications/{issued.reference}/document.pdf")
    assert response.status_code == DOWNLOAD_EXPECTED[who]
    if response.status_code == 200:
        assert response.content.startswith(b"%PDF-")
        assert response["Content-Type"] == "application/pdf"
        assert issued.issued_document is not None
        filename = issued.issued_document.number.replace("/", "-")
        assert response["Content-Disposition"] == f'attachment; filename="{filename}.pdf"'


def test_nothing_issued_is_a_404(in_review_ubp: Application, citizen: User) -> None:
    assert in_review_ubp.status == ApplicationStatus.IN_REVIEW
    response = citizen_client(citizen).get(
        f"{API}/applications/{in_review_ubp.reference}/document.pdf"
    )
    assert response.status_code == 404


def test_the_new_operations_are_in_the_openapi_schema(client: Client) -> None:
    schema = client.get("/api/schema/", {"format": "json"}).json()
    operations = {
        operation["operationId"]: path
        for path, item in schema["paths"].items()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    assert operations["reassign_application_step"] == (
        "/api/v1/applications/{reference}/steps/{code}/assignee/"
    )
    assert operations["download_application_document"] == (
        "/api/v1/applications/{reference}/documents/{public_id}/"
    )
    assert operations["download_issued_document"] == (
        "/api/v1/applications/{reference}/document.pdf"
    )
    pdf = schema["paths"]["/api/v1/applications/{reference}/document.pdf"]["get"]
    # 400 (input the database cannot store) and 429 (rate limits) can answer any operation
    assert set(pdf["responses"]) == {"200", "400", "401", "403", "404", "429"}
    assert "application/pdf" in pdf["responses"]["200"]["content"]
