"""Staff pages through HTTP: the work queue, the application page, the actions on each
step, and who may see and do what."""

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from kaunti.accounts.models import User
from kaunti.conftest import sign_in_staff
from kaunti.eservices.models import Application, ApplicationStatus, StepStatus
from kaunti.eservices.tests.conftest import png, step

pytestmark = pytest.mark.django_db


def staff_client(user: User) -> Client:
    client = Client()
    sign_in_staff(client, user)
    return client


def citizen_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def act(client: Client, application: Application, code: str, action: str, **data: object) -> str:
    """Post one step action and answer the messages shown on the page it returns to."""
    response = client.post(
        reverse("eservices:staff_step_action", args=[application.reference, code, action]),
        data,
        follow=True,
    )
    assert response.status_code == 200
    return response.content.decode()


def state(application: Application) -> tuple[object, ...]:
    application.refresh_from_db()
    return (
        application.status,
        list(application.steps.order_by("position").values_list("status", "assigned_to_id")),
        application.events.count(),
    )


Who = Callable[[dict[str, User], User], Client]
VIEWERS: dict[str, Who] = {
    "anonymous": lambda people, citizen: Client(),
    "a citizen": lambda people, citizen: citizen_client(citizen),
    "staff of another department": lambda people, citizen: staff_client(people["lands_approver"]),
    "staff with the role": lambda people, citizen: staff_client(people["trade_approver"]),
}
EXPECTED = {
    "anonymous": {"page": 302, "queue": 302, "act": 302},
    "a citizen": {"page": 403, "queue": 403, "act": 403},
    "staff of another department": {"page": 403, "queue": 200, "act": 403},
    "staff with the role": {"page": 200, "queue": 200, "act": 302},
}


@pytest.mark.parametrize("who", list(VIEWERS))
def test_the_permission_matrix_of_the_staff_pages(
    who: str, in_review_ubp: Application, people: dict[str, User], citizen: User
) -> None:
    client = VIEWERS[who](people, citizen)
    expected = EXPECTED[who]
    reference = in_review_ubp.reference
    page = client.get(reverse("eservices:staff_application", args=[reference]))
    assert page.status_code == expected["page"]
    queue = client.get(reverse("eservices:staff_queue"))
    assert queue.status_code == expected["queue"]
    if queue.status_code == 200:
        assert (reference in queue.content.decode()) is (who == "staff with the role")
    before = state(in_review_ubp)
    response = client.post(
        reverse("eservices:staff_step_action", args=[reference, "review", "approve"]), {}
    )
    assert response.status_code == expected["act"]
    if who != "staff with the role":
        assert state(in_review_ubp) == before
    else:
        assert step(in_review_ubp, "review").status == StepStatus.DONE


def test_staff_of_another_department_cannot_download_an_applicants_document(
    in_review_ubp: Application, people: dict[str, User]
) -> None:
    document = in_review_ubp.documents.first()
    assert document is not None
    url = reverse("eservices:download_document", args=[document.public_id])
    assert staff_client(people["lands_approver"]).get(url).status_code == 404
    response = staff_client(people["trade_approver"]).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")  # type: ignore[attr-defined]


def test_the_inspectors_and_the_approver_take_the_permit_to_issue(
    in_review_ubp: Application, people: dict[str, User]
) -> None:
    act(staff_client(people["trade_approver"]), in_review_ubp, "review", "approve")
    health = staff_client(people["health_inspector"])
    queue = health.get(reverse("eservices:staff_queue")).content.decode()
    assert in_review_ubp.reference in queue
    page = act(
        health,
        in_review_ubp,
        "inspection-health",
        "inspect",
        passed="yes",
        note="Clean premises.",
        photos=png("premises.png"),
    )
    assert "Done." in page
    act(
        staff_client(people["fire_inspector"]),
        in_review_ubp,
        "inspection-fire",
        "inspect",
        passed="yes",
        note="Extinguisher present.",
    )
    act(staff_client(people["second_trade_approver"]), in_review_ubp, "approval", "approve")
    in_review_ubp.refresh_from_db()
    assert in_review_ubp.status == ApplicationStatus.ISSUED
    assert in_review_ubp.issued_document is not None
    assert in_review_ubp.documents.filter(step__code="inspection-health").count() == 1


def test_a_rejection_needs_a_reason_and_changes_nothing_without_one(
    in_review_ubp: Application, people: dict[str, User]
) -> None:
    client = staff_client(people["trade_approver"])
    before = state(in_review_ubp)
    page = act(client, in_review_ubp, "review", "reject", note="")
    assert "Give the reason for the rejection." in page
    assert state(in_review_ubp) == before

    act(client, in_review_ubp, "review", "reject", note="Not a business premises.")
    in_review_ubp.refresh_from_db()
    assert in_review_ubp.status == ApplicationStatus.REJECTED
    assert in_review_ubp.decision_reason == "Not a business premises."


def test_an_inspector_may_not_approve_what_they_inspected(
    in_review_ubp: Application, people: dict[str, User], make_staff: Callable[..., User]
) -> None:
    all_rounder = people["trade_all_rounder"]
    act(staff_client(people["trade_approver"]), in_review_ubp, "review", "approve")
    fire = step(in_review_ubp, "inspection-fire")
    fire.department = all_rounder.role_assignments.get(role="inspector").department
    fire.save(update_fields=["department"])
    client = staff_client(all_rounder)
    act(client, in_review_ubp, "inspection-fire", "inspect", passed="yes", note="")
    act(
        staff_client(people["health_inspector"]),
        in_review_ubp,
        "inspection-health",
        "inspect",
        passed="yes",
        note="",
    )
    before = state(in_review_ubp)
    page = act(client, in_review_ubp, "approval", "approve")
    assert "may not also approve" in page
    assert state(in_review_ubp) == before


def test_return_for_changes_shows_the_note_to_the_applicant(
    in_review_ubp: Application, people: dict[str, User], citizen: User
) -> None:
    act(
        staff_client(people["trade_approver"]),
        in_review_ubp,
        "review",
        "return",
        note="Upload a clearer ID copy.",
    )
    in_review_ubp.refresh_from_db()
    assert in_review_ubp.status == ApplicationStatus.RETURNED
    page = citizen_client(citizen).get(
        reverse("eservices:application_detail", args=[in_review_ubp.reference])
    )
    assert "Upload a clearer ID copy." in page.content.decode()


def test_a_supervisor_reassigns_a_step_and_others_may_not(
    in_review_ubp: Application, people: dict[str, User]
) -> None:
    review = step(in_review_ubp, "review")
    target = people["second_trade_approver"]
    before = state(in_review_ubp)
    refused = staff_client(people["trade_approver"]).post(
        reverse(
            "eservices:staff_step_action", args=[in_review_ubp.reference, "review", "reassign"]
        ),
        {"assignee": str(target.pk)},
    )
    assert refused.status_code == 403
    assert state(in_review_ubp) == before

    act(
        staff_client(people["trade_supervisor"]),
        in_review_ubp,
        "review",
        "reassign",
        assignee=str(target.pk),
        reason="Leave cover",
    )
    review.refresh_from_db()
    assert review.assigned_to == target


def test_the_staff_home_and_the_citizens_account_link_to_the_eservices_pages(
    people: dict[str, User], citizen: User
) -> None:
    home = staff_client(people["trade_approver"]).get("/staff/").content.decode()
    assert reverse("eservices:staff_queue") in home
    assert reverse("eservices:staff_inbox") in home
    account = citizen_client(citizen).get("/account/").content.decode()
    for name in ("service_list", "my_applications", "my_complaints"):
        assert reverse(f"eservices:{name}") in account
