"""A step routed to a department where nobody may act on it is shown to supervisors at
once, not only once it is overdue; loading a catalogue with such steps warns (issue 14:
the business permit's fire inspection had no officer, and nobody noticed)."""

import io
import logging
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from kaunti.accounts.models import User
from kaunti.conftest import sign_in_staff
from kaunti.eservices.models import Application, ApplicationStep
from kaunti.eservices.services.catalogue_data import load_catalogue

pytestmark = pytest.mark.django_db

FIRE = "Fire safety inspection"
SECTION = "Steps nobody can act on"


def staff_client(user: User) -> Client:
    client = Client()
    sign_in_staff(client, user)
    return client


def queue(user: User) -> str:
    response = staff_client(user).get(reverse("eservices:staff_queue"))
    assert response.status_code == 200
    return response.content.decode()


def test_a_supervisor_sees_at_once_a_step_nobody_can_act_on(
    in_review_ubp: Application, make_staff: Callable[..., User]
) -> None:
    supervisor = make_staff(["supervisor"], department="trade")
    make_staff(["approver"], department="trade")
    make_staff(["inspector"], department="health")
    fire = in_review_ubp.steps.get(code="inspection-fire")
    assert fire.status == "waiting"  # waits for the review: far from overdue
    html = queue(supervisor)
    assert SECTION in html
    section = html[html.index('id="unassignable-steps"') : html.index("Steps waiting for you")]
    assert in_review_ubp.reference in section
    assert FIRE in section
    assert "Public Service, Administration and Devolution" in section
    assert '<td class="govuk-table__cell">Inspector</td>' in section
    # The health inspection and the trade steps have officers: not listed.
    assert "Public health inspection" not in section
    assert "Review by the trade office" not in section


def test_the_application_page_flags_the_step_nobody_can_act_on(
    in_review_ubp: Application, make_staff: Callable[..., User]
) -> None:
    supervisor = make_staff(["supervisor"], department="trade")
    make_staff(["approver"], department="trade")
    make_staff(["inspector"], department="health")
    page = staff_client(supervisor).get(
        reverse("eservices:staff_application", args=[in_review_ubp.reference])
    )
    html = page.content.decode()
    assert html.count("Nobody can act on it") == 1
    fire_card = html[html.index('id="step-inspection-fire"') :]
    assert fire_card.index("Nobody can act on it") < fire_card.index("govuk-summary-card__content")


def test_no_warning_when_an_officer_holds_the_role(
    in_review_ubp: Application, make_staff: Callable[..., User]
) -> None:
    supervisor = make_staff(["supervisor"], department="trade")
    make_staff(["approver"], department="trade")
    make_staff(["inspector"], department="health")
    make_staff(["inspector"], department="public-service")
    assert SECTION not in queue(supervisor)


def test_an_inactive_officer_does_not_count(
    in_review_ubp: Application, make_staff: Callable[..., User]
) -> None:
    supervisor = make_staff(["supervisor"], department="trade")
    make_staff(["approver"], department="trade")
    make_staff(["inspector"], department="health")
    gone = make_staff(["inspector"], department="public-service")
    User.objects.filter(pk=gone.pk).update(is_active=False)
    assert FIRE in queue(supervisor)


def test_an_officer_who_is_no_supervisor_is_not_shown_the_section(
    in_review_ubp: Application, make_staff: Callable[..., User]
) -> None:
    approver = make_staff(["approver"], department="trade")
    assert SECTION not in queue(approver)


def test_loading_a_catalogue_with_steps_nobody_can_act_on_warns(
    catalogue: None, make_staff: Callable[..., User], caplog: pytest.LogCaptureFixture
) -> None:
    make_staff(["approver"], department="trade")
    make_staff(["inspector"], department="health")
    out = io.StringIO()
    with caplog.at_level(logging.WARNING, logger="kaunti.eservices.services.catalogue_data"):
        call_command("load_catalogue", stdout=out)
    printed = out.getvalue()
    assert "no active officer holds the role these steps need" in printed
    assert "  unified-business-permit: inspection-fire (inspector in public-service)" in printed
    assert "unified-business-permit: review" not in printed
    assert (
        "catalogue step nobody can act on: unified-business-permit: inspection-fire "
        "(inspector in public-service)" in caplog.messages
    )


def test_a_catalogue_every_step_of_which_has_an_officer_loads_without_warning(
    catalogue: None, make_staff: Callable[..., User]
) -> None:
    for role, departments in {
        "approver": ["trade", "lands", "public-works", "health", "agriculture"],
        "inspector": ["health", "public-service", "lands", "agriculture"],
        "land_officer": ["lands"],
    }.items():
        for department in departments:
            make_staff([role], department=department)
    result = load_catalogue(county_code="018")
    assert result.steps_nobody_can_act_on == []
    assert ApplicationStep.objects.count() == 0
