"""The e-services API: the catalogue, a citizen's application from draft to bill, staff
actions, complaints, the permission matrix and the OpenAPI schema."""

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from kaunti.accounts.models import User
from kaunti.conftest import sign_in_staff
from kaunti.eservices.models import Application, ApplicationStatus, Complaint, StepStatus
from kaunti.eservices.tests.conftest import UBP_ANSWERS, pdf, step, stored_files

pytestmark = pytest.mark.django_db

API = "/api/v1"
QUERIES_PER_STEP_ACTION = 18  # approving the review step (staff signed in); it was 26


def citizen_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def staff_client(user: User) -> Client:
    client = Client()
    sign_in_staff(client, user)
    return client


def test_the_catalogue_is_public_and_searchable(ubp: object, client: Client) -> None:
    services = client.get(f"{API}/services/").json()
    assert "unified-business-permit" in [service["code"] for service in services]
    found = client.get(f"{API}/services/", {"q": "liquor"}).json()
    assert found
    assert all("liquor" in service["code"] for service in found)
    detail = client.get(f"{API}/services/unified-business-permit/").json()
    assert detail["department"] == "trade"
    names = [field["name"] for field in detail["fields"]]
    assert "business_name" in names
    assert {document["kind"] for document in detail["documents"]} >= {"id_copy"}
    assert client.get(f"{API}/services/nothing/").status_code == 404


def test_a_citizen_takes_an_application_from_draft_to_a_bill(ubp: object, citizen: User) -> None:
    client = citizen_client(citizen)
    created = client.post(
        f"{API}/applications/", {"service": "unified-business-permit"}, "application/json"
    )
    assert created.status_code == 201
    reference = created.json()["reference"]
    assert created.json()["status"] == "draft"

    updated = client.patch(
        f"{API}/applications/{reference}/",
        {"answers": {**UBP_ANSWERS, "kra_pin": "WRONG"}},
        "application/json",
    )
    assert updated.status_code == 200
    assert list(updated.json()["errors"]) == ["kra_pin"]
    client.patch(f"{API}/applications/{reference}/", {"answers": UBP_ANSWERS}, "application/json")
    for kind in ("id_copy", "kra_certificate"):
        uploaded = client.post(
            f"{API}/applications/{reference}/documents/", {"kind": kind, "file": pdf()}
        )
        assert uploaded.status_code == 201, uploaded.content
    fees = client.get(f"{API}/applications/{reference}/fees/").json()
    assert fees["lines"]
    assert Decimal(fees["total"]) == sum(Decimal(line["amount"]) for line in fees["lines"])

    submitted = client.post(f"{API}/applications/{reference}/submit/", {}, "application/json")
    assert submitted.status_code == 200
    body = submitted.json()
    assert body["status"] == "submitted"
    assert body["bill_number"]
    assert body["fee_total"] == fees["total"]


def test_an_executable_upload_is_a_problem_and_stores_nothing(
    draft_ubp: Application, citizen: User, media_root: Path
) -> None:
    before = stored_files(media_root)
    response = citizen_client(citizen).post(
        f"{API}/applications/{draft_ubp.reference}/documents/",
        {"kind": "id_copy", "file": SimpleUploadedFile("a.pdf", b"MZ\x90\x00" + b"\0" * 64)},
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"]
    assert stored_files(media_root) == before


Who = Callable[[dict[str, User], User, User], Client]
VIEWERS: dict[str, Who] = {
    "anonymous": lambda people, citizen, other: Client(),
    "another citizen": lambda people, citizen, other: citizen_client(other),
    "staff of another department": lambda people, citizen, other: staff_client(
        people["lands_approver"]
    ),
    "staff with the role": lambda people, citizen, other: staff_client(people["trade_approver"]),
    "the applicant": lambda people, citizen, other: citizen_client(citizen),
}
EXPECTED = {
    "anonymous": {"read": 401, "act": 401},
    "another citizen": {"read": 404, "act": 403},
    "staff of another department": {"read": 403, "act": 403},
    "staff with the role": {"read": 200, "act": 200},
    "the applicant": {"read": 200, "act": 403},
}


@pytest.mark.parametrize("who", list(VIEWERS))
def test_the_permission_matrix_of_the_applications_api(
    who: str,
    in_review_ubp: Application,
    people: dict[str, User],
    citizen: User,
    other_citizen: User,
) -> None:
    client = VIEWERS[who](people, citizen, other_citizen)
    reference = in_review_ubp.reference
    for url in (f"{API}/applications/{reference}/", f"{API}/applications/{reference}/documents/"):
        assert client.get(url).status_code == EXPECTED[who]["read"], url
    response = client.post(
        f"{API}/applications/{reference}/steps/review/approve/", {}, "application/json"
    )
    assert response.status_code == EXPECTED[who]["act"]
    expected_status = StepStatus.DONE if who == "staff with the role" else StepStatus.OPEN
    assert step(in_review_ubp, "review").status == expected_status


def test_the_staff_view_has_the_steps_and_the_work_queue_lists_them(
    in_review_ubp: Application, people: dict[str, User]
) -> None:
    client = staff_client(people["trade_approver"])
    detail = client.get(f"{API}/applications/{in_review_ubp.reference}/").json()
    assert next(s["code"] for s in detail["steps"]) == "review"
    queue = client.get(f"{API}/work-queue/").json()
    assert [(row["application"], row["step"]["code"]) for row in queue] == [
        (in_review_ubp.reference, "review")
    ]


def test_a_step_action_answers_with_the_application_as_left_in_few_queries(
    in_review_ubp: Application,
    people: dict[str, User],
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    # The guard: the application and its steps read once for the check and once under the
    # lock, the answer from what the service locked (no re-read, no lazy loads).
    approver = staff_client(people["trade_approver"])
    url = f"{API}/applications/{in_review_ubp.reference}/steps/review/approve/"
    with django_assert_max_num_queries(QUERIES_PER_STEP_ACTION):
        response = approver.post(url, {}, "application/json")
    assert response.status_code == 200
    assert in_review_ubp.bill is not None
    assert response.json()["status"] == ApplicationStatus.IN_REVIEW
    assert response.json()["bill_number"] == in_review_ubp.bill.number
    assert response.json()["issued_document_number"] is None
    assert step(in_review_ubp, "review").status == StepStatus.DONE
    assert step(in_review_ubp, "inspection-health").status == StepStatus.OPEN


def test_an_inspection_needs_a_result_and_a_rejection_a_reason(
    in_review_ubp: Application, people: dict[str, User]
) -> None:
    approver = staff_client(people["trade_approver"])
    approver.post(
        f"{API}/applications/{in_review_ubp.reference}/steps/review/approve/",
        {},
        "application/json",
    )
    inspector = staff_client(people["health_inspector"])
    url = f"{API}/applications/{in_review_ubp.reference}/steps/inspection-health/inspect/"
    refused = inspector.post(url, {"note": "ok"}, "application/json")
    assert refused.status_code == 400
    assert step(in_review_ubp, "inspection-health").status == StepStatus.OPEN
    assert inspector.post(url, {"passed": True}, "application/json").status_code == 200
    assert step(in_review_ubp, "inspection-health").status == StepStatus.DONE

    rejection = approver.post(
        f"{API}/applications/{in_review_ubp.reference}/steps/approval/reject/",
        {"note": ""},
        "application/json",
    )
    assert rejection.status_code in (400, 403)
    in_review_ubp.refresh_from_db()
    assert in_review_ubp.status == ApplicationStatus.IN_REVIEW


def test_complaints_through_the_api(
    catalogue: None,
    citizen: User,
    other_citizen: User,
    make_staff: Callable[..., User],
) -> None:
    filed = citizen_client(citizen).post(
        f"{API}/complaints/",
        {"category": "water", "ward": "0455", "description": "No water for three days."},
        "application/json",
    )
    assert filed.status_code == 201, filed.content
    reference = filed.json()["reference"]
    assert citizen_client(other_citizen).get(f"{API}/complaints/{reference}/").status_code == 404
    lands = staff_client(make_staff(["approver"], department="lands"))
    assert lands.get(f"{API}/complaints/{reference}/").status_code == 403
    water = staff_client(make_staff(["approver"], department="water"))
    assert [c["reference"] for c in water.get(f"{API}/complaints/").json()] == [reference]
    resolved = water.post(
        f"{API}/complaints/{reference}/resolve/", {"text": "Pipe fixed."}, "application/json"
    )
    assert resolved.json()["status"] == "resolved"
    rated = citizen_client(citizen).post(
        f"{API}/complaints/{reference}/rate/", {"rating": 4}, "application/json"
    )
    assert rated.json()["rating"] == 4
    assert Complaint.objects.get().rating == 4


def test_the_operations_are_in_the_openapi_schema(client: Client) -> None:
    schema = client.get("/api/schema/", {"format": "json"}).json()
    operations = {
        operation["operationId"]
        for path in schema["paths"].values()
        for operation in path.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    assert {
        "list_services",
        "get_service",
        "create_application",
        "update_application_draft",
        "submit_application",
        "get_application",
        "upload_application_document",
        "act_on_application_step",
        "list_work_queue",
        "file_complaint",
        "act_on_complaint",
    } <= operations
