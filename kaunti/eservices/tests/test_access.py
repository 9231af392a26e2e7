"""Who sees what: anonymous, another citizen, staff of another department, staff with the role."""

from collections.abc import Callable

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from kaunti.accounts.models import User
from kaunti.eservices.models import Application, ApplicationStatus
from kaunti.eservices.selectors.applications.citizen import (
    get_citizen_application,
    list_application_timeline,
    list_citizen_applications,
)
from kaunti.eservices.selectors.applications.files import render_issued_document
from kaunti.eservices.selectors.applications.staff import (
    access_application_for_staff,
    list_department_applications,
)
from kaunti.eservices.selectors.applications.work_queue import list_work_queue
from kaunti.eservices.services.workflow.actions import approve_step, reassign_step
from kaunti.eservices.services.workflow.inspections import record_inspection_result
from kaunti.eservices.tests.conftest import step

pytestmark = pytest.mark.django_db

Who = Callable[[dict[str, User], User, User], object]

VIEWERS: dict[str, Who] = {
    "anonymous": lambda people, citizen, other: AnonymousUser(),
    "another citizen": lambda people, citizen, other: other,
    "staff of another department": lambda people, citizen, other: people["lands_approver"],
    "staff with the role": lambda people, citizen, other: people["trade_approver"],
    "the applicant": lambda people, citizen, other: citizen,
}

# What each viewer may do with someone's business permit application.
EXPECTED = {
    "anonymous": {"own": False, "staff": "denied", "queue": 0, "listed": 0},
    "another citizen": {"own": False, "staff": "denied", "queue": 0, "listed": 0},
    "staff of another department": {"own": False, "staff": "denied", "queue": 0, "listed": 0},
    "staff with the role": {"own": False, "staff": "seen", "queue": 1, "listed": 1},
    "the applicant": {"own": True, "staff": "denied", "queue": 0, "listed": 0},
}


@pytest.mark.parametrize("who", list(VIEWERS))
def test_the_permission_matrix_for_reading_an_application(
    who: str,
    in_review_ubp: Application,
    people: dict[str, User],
    citizen: User,
    other_citizen: User,
) -> None:
    user = VIEWERS[who](people, citizen, other_citizen)
    expected = EXPECTED[who]
    reference = in_review_ubp.reference
    assert (get_citizen_application(user=user, reference=reference) is not None) is expected["own"]
    assert (len(list_citizen_applications(user=user)) == 1) is expected["own"]
    if expected["staff"] == "seen":
        assert access_application_for_staff(user=user, reference=reference) == in_review_ubp
    else:
        with pytest.raises(PermissionDenied):
            access_application_for_staff(user=user, reference=reference)
    assert len(list_work_queue(user=user)) == expected["queue"]
    assert len(list_department_applications(user=user)) == expected["listed"]


def test_an_inspector_of_another_department_sees_the_applications_they_inspect(
    in_review_ubp: Application, people: dict[str, User]
) -> None:
    inspector = people["health_inspector"]
    assert [a.reference for a in list_department_applications(user=inspector)] == [
        in_review_ubp.reference
    ]
    assert (
        access_application_for_staff(user=inspector, reference=in_review_ubp.reference)
        == in_review_ubp
    )


def test_a_lookup_of_an_unknown_reference_finds_nothing(
    people: dict[str, User], citizen: User, db: None
) -> None:
    assert (
        access_application_for_staff(user=people["trade_approver"], reference="APP-XXXXXXX") is None
    )
    assert get_citizen_application(user=citizen, reference="APP-XXXXXXX") is None


def test_references_are_found_however_they_are_typed(
    in_review_ubp: Application, citizen: User
) -> None:
    typed = in_review_ubp.reference.lower().replace("-", " ")
    assert get_citizen_application(user=citizen, reference=typed) == in_review_ubp


def test_the_applicant_does_not_see_internal_entries(
    in_review_ubp: Application, people: dict[str, User], citizen: User
) -> None:
    reassign_step(
        step=step(in_review_ubp, "review"),
        actor=people["trade_supervisor"],
        assignee=people["trade_approver"],
        reason="Backlog",
    )
    staff_view = [
        e.kind for e in list_application_timeline(application=in_review_ubp, for_applicant=False)
    ]
    applicant_view = [
        e.kind for e in list_application_timeline(application=in_review_ubp, for_applicant=True)
    ]
    assert "reassigned" in staff_view
    assert "reassigned" not in applicant_view


def test_only_the_holder_and_staff_who_may_view_download_the_permit(
    in_review_ubp: Application, people: dict[str, User], citizen: User, other_citizen: User
) -> None:
    approve_step(step=step(in_review_ubp, "review"), actor=people["trade_approver"])
    record_inspection_result(
        step=step(in_review_ubp, "inspection-health"),
        actor=people["health_inspector"],
        passed=True,
        notes="",
    )
    record_inspection_result(
        step=step(in_review_ubp, "inspection-fire"),
        actor=people["fire_inspector"],
        passed=True,
        notes="",
    )
    approve_step(step=step(in_review_ubp, "approval"), actor=people["trade_approver"])
    in_review_ubp.refresh_from_db()
    assert in_review_ubp.status == ApplicationStatus.ISSUED
    reference = in_review_ubp.reference
    assert render_issued_document(user=citizen, reference=reference, language="sw") is not None
    assert (
        render_issued_document(user=people["trade_approver"], reference=reference, language="en")
        is not None
    )
    assert render_issued_document(user=other_citizen, reference=reference, language="en") is None
    assert render_issued_document(user=AnonymousUser(), reference=reference, language="en") is None
    assert (
        render_issued_document(user=people["lands_approver"], reference=reference, language="en")
        is None
    )
