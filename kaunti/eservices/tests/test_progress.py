"""After payment the applicant sees the steps left and when each is expected, and is texted
as each step is done, as the first message promises (issue 14)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import dateformat, timezone, translation

from kaunti.accounts.models import User
from kaunti.core.models import OutboxMessage
from kaunti.eservices.models import Application, ApplicationStatus, ApplicationStep
from kaunti.eservices.services.workflow.actions import approve_step, return_for_changes
from kaunti.eservices.services.workflow.inspections import record_inspection_result
from kaunti.eservices.tests.conftest import step

pytestmark = pytest.mark.django_db

NAIROBI = ZoneInfo("Africa/Nairobi")


def long_date(moment: datetime) -> str:
    local = timezone.localtime(moment, NAIROBI)
    return f"{local.day} {local:%B %Y}"


def citizen_page(application: Application, citizen: User, language: str = "en") -> str:
    User.objects.filter(pk=citizen.pk).update(preferred_language=language)
    client = Client()
    client.force_login(citizen)
    response = client.get(reverse("eservices:application_detail", args=[application.reference]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_applicant_sees_each_step_left_with_its_expected_date(
    in_review_ubp: Application, citizen: User
) -> None:
    # The review opened on 2 March 2030 at 09:00 with its 48 hours: the inspections (72
    # hours each, side by side) follow it, and the approval (24 hours) follows both.
    opened = datetime(2030, 3, 2, 9, 0, tzinfo=NAIROBI)
    ApplicationStep.objects.filter(pk=step(in_review_ubp, "review").pk).update(
        opened_at=opened, due_at=opened + timedelta(hours=48)
    )
    html = citizen_page(in_review_ubp, citizen)
    assert "What happens next" in html
    assert "The county expects to decide by 8 March 2030." in html
    steps = html[html.index('id="application-steps"') :]
    assert (
        '<dt class="govuk-summary-list__key">Review by the trade office</dt>'
        '<dd class="govuk-summary-list__value">In progress: expected by 4 March 2030</dd>'
    ) in steps
    assert (
        '<dt class="govuk-summary-list__key">Fire safety inspection</dt>'
        '<dd class="govuk-summary-list__value">Waiting for the steps before it: '
        "expected by 7 March 2030</dd>"
    ) in steps
    assert (
        '<dt class="govuk-summary-list__key">Approval of the permit</dt>'
        '<dd class="govuk-summary-list__value">Waiting for the steps before it: '
        "expected by 8 March 2030</dd>"
    ) in steps


def test_the_steps_are_shown_in_kiswahili(in_review_ubp: Application, citizen: User) -> None:
    opened = datetime(2030, 3, 2, 9, 0, tzinfo=NAIROBI)
    ApplicationStep.objects.filter(pk=step(in_review_ubp, "review").pk).update(
        opened_at=opened, due_at=opened + timedelta(hours=48)
    )
    html = citizen_page(in_review_ubp, citizen, language="sw")
    assert "Kaunti inatarajia kuamua kufikia 8 Machi 2030." in html
    assert (
        '<dt class="govuk-summary-list__key">Ukaguzi wa usalama wa moto</dt>'
        '<dd class="govuk-summary-list__value">Inasubiri hatua zilizotangulia: '
        "inatarajiwa kufikia 7 Machi 2030</dd>"
    ) in html


def test_a_done_step_shows_the_day_it_was_done(
    in_review_ubp: Application, citizen: User, people: dict[str, User]
) -> None:
    approve_step(step=step(in_review_ubp, "review"), actor=people["trade_approver"])
    done = step(in_review_ubp, "review")
    assert done.completed_at is not None
    html = citizen_page(in_review_ubp, citizen)
    assert (
        '<dt class="govuk-summary-list__key">Review by the trade office</dt>'
        f'<dd class="govuk-summary-list__value">Done on {long_date(done.completed_at)}</dd>'
    ) in html


def test_a_draft_shows_no_steps(draft_ubp: Application, citizen: User) -> None:
    assert "What happens next" not in citizen_page(draft_ubp, citizen)


def test_the_first_message_says_when_the_decision_is_expected(
    in_review_ubp: Application,
) -> None:
    review = step(in_review_ubp, "review")
    assert review.due_at is not None
    # 48 hours of review, 72 of the inspections side by side, 24 of the approval.
    expected = long_date(review.due_at + timedelta(hours=72 + 24))
    message = OutboxMessage.objects.get(template="eservices_application_in_review")
    assert message.body == (
        f"Unified Business Permit application {in_review_ubp.reference} is now being reviewed "
        f"by the county, with a decision expected by {expected}. "
        "We will text you as each step is done."
    )


def test_the_applicant_is_texted_as_each_step_is_done(
    in_review_ubp: Application, people: dict[str, User]
) -> None:
    reference = in_review_ubp.reference
    approve_step(step=step(in_review_ubp, "review"), actor=people["trade_approver"])
    fire = step(in_review_ubp, "inspection-fire")
    assert fire.due_at is not None
    expected = long_date(fire.due_at + timedelta(hours=24))
    after_review = OutboxMessage.objects.latest("id")
    assert after_review.template == "eservices_application_step_done"
    assert after_review.recipient == "254712000111"
    assert after_review.body == (
        f"Unified Business Permit application {reference}: Review by the trade office is done. "
        f"Next: Public health inspection, Fire safety inspection. "
        f"Decision expected by {expected}."
    )

    record_inspection_result(
        step=step(in_review_ubp, "inspection-health"),
        actor=people["health_inspector"],
        passed=True,
        notes="Clean.",
    )
    assert OutboxMessage.objects.latest("id").body == (
        f"Unified Business Permit application {reference}: Public health inspection is done. "
        f"Next: Fire safety inspection. Decision expected by {expected}."
    )

    record_inspection_result(
        step=step(in_review_ubp, "inspection-fire"),
        actor=people["fire_inspector"],
        passed=True,
        notes="Extinguisher in date.",
    )
    approval = step(in_review_ubp, "approval")
    assert approval.due_at is not None
    assert OutboxMessage.objects.latest("id").body == (
        f"Unified Business Permit application {reference}: Fire safety inspection is done. "
        f"Next: Approval of the permit. Decision expected by {long_date(approval.due_at)}."
    )

    # The last step issues the permit: one message, the permit's, not a "step done" too.
    before = OutboxMessage.objects.count()
    approve_step(step=approval, actor=people["second_trade_approver"])
    in_review_ubp.refresh_from_db()
    assert in_review_ubp.status == ApplicationStatus.ISSUED
    assert list(
        OutboxMessage.objects.filter(id__gt=0).order_by("id").values_list("template", flat=True)
    )[before:] == ["eservices_application_issued"]


def test_the_step_message_is_in_the_applicants_language(
    in_review_ubp: Application, citizen: User, people: dict[str, User]
) -> None:
    User.objects.filter(pk=citizen.pk).update(preferred_language="sw")
    in_review_ubp.refresh_from_db()
    approve_step(step=step(in_review_ubp, "review"), actor=people["trade_approver"])
    fire = step(in_review_ubp, "inspection-fire")
    assert fire.due_at is not None
    with translation.override("sw"):
        expected = dateformat.format(timezone.localtime(fire.due_at + timedelta(hours=24)), "j F Y")
    assert OutboxMessage.objects.latest("id").body == (
        f"Ombi {in_review_ubp.reference} (Kibali cha Biashara cha Pamoja): Ukaguzi wa ofisi ya "
        "biashara imekamilika. Inayofuata: Ukaguzi wa afya ya umma, Ukaguzi wa usalama wa moto. "
        f"Uamuzi unatarajiwa kufikia {expected}."
    )


def test_a_returned_application_is_not_texted_a_step_done(
    in_review_ubp: Application, people: dict[str, User]
) -> None:
    return_for_changes(
        step=step(in_review_ubp, "review"), actor=people["trade_approver"], note="Fix the PIN."
    )
    assert not OutboxMessage.objects.filter(template="eservices_application_step_done").exists()
