"""What an application's or a complaint's owner is told, and its timeline entry.

Both are written in the transaction of the change they report: the timeline row with
it, and the SMS through the outbox, which sends only once that transaction commits.
Templates live in `eservices/templates/notifications/eservices_*.{en,sw}.txt`.
"""

import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from kaunti.accounts.models import User
from kaunti.core.services.notifications import queue_sms
from kaunti.eservices.models import (
    Application,
    ApplicationEvent,
    ApplicationStep,
    Complaint,
    ComplaintEvent,
)
from kaunti.eservices.selectors.progress import project_steps


def _user_or_none(actor: Any) -> User | None:
    return actor if isinstance(actor, User) and actor.is_authenticated else None


def record_application_event(
    *,
    application: Application,
    kind: str,
    actor: Any,
    note: str = "",
    step: ApplicationStep | None = None,
    is_visible_to_applicant: bool = True,
    data: Mapping[str, Any] | None = None,
) -> ApplicationEvent:
    """Add an entry to the application's timeline, with the status it left it in."""
    return ApplicationEvent.objects.create(
        application=application,
        occurred_at=timezone.now(),
        kind=kind,
        actor=_user_or_none(actor),
        step=step,
        status_after=application.status,
        note=note,
        is_visible_to_applicant=is_visible_to_applicant,
        # Stored as JSON: amounts and dates become strings, as in the audit chain.
        data=json.loads(json.dumps(dict(data or {}), cls=DjangoJSONEncoder)),
    )


def record_complaint_event(
    *,
    complaint: Complaint,
    kind: str,
    actor: Any,
    note: str = "",
    is_visible_to_complainant: bool = True,
) -> ComplaintEvent:
    """Add an entry to the complaint's timeline (internal ones hidden from the citizen)."""
    return ComplaintEvent.objects.create(
        complaint=complaint,
        occurred_at=timezone.now(),
        kind=kind,
        actor=_user_or_none(actor),
        note=note,
        is_visible_to_complainant=is_visible_to_complainant,
    )


def text_person(*, person: User, template: str, context: Mapping[str, Any]) -> None:
    """Queue an SMS in the person's language, if they have a phone (staff may not)."""
    if not person.phone:
        return
    language = person.preferred_language or settings.LANGUAGE_CODE
    queue_sms(
        to=person.phone,
        template=f"eservices_{template}",
        context=dict(context),
        language=language,
    )


def text_applicant(*, application: Application, template: str, **context: Any) -> None:
    """Tell the applicant of a change to their application (County Licensing (Uniform
    Procedures) Act 2024, s. 15: notice of the decision)."""
    applicant = application.applicant
    language = applicant.preferred_language or settings.LANGUAGE_CODE
    text_person(
        person=applicant,
        template=template,
        context={
            "reference": application.reference,
            "service": application.service.name(language),
            **context,
        },
    )


def _applicant_language(application: Application) -> str:
    return application.applicant.preferred_language or settings.LANGUAGE_CODE


def text_applicant_in_review(*, application: Application) -> None:
    """Tell the applicant review has started and when the decision is expected; the
    message promises a text as each step is done, which `text_applicant_step_done` keeps."""
    progress = project_steps(
        list(application.steps.order_by("position")), language=_applicant_language(application)
    )
    text_applicant(
        application=application,
        template="application_in_review",
        expected_by=progress.decision_expected_by,
    )


def text_applicant_step_done(
    *, application: Application, step: ApplicationStep, steps: list[ApplicationStep]
) -> None:
    """Tell the applicant that `step` is done, which steps are now under way and when the
    decision is expected (`steps`: all the application's steps, as they now stand)."""
    language = _applicant_language(application)
    progress = project_steps(steps, language=language)
    under_way = [row.name for row in progress.steps if row.is_open]
    text_applicant(
        application=application,
        template="application_step_done",
        step=step.name(language),
        next=", ".join(under_way or [row.name for row in progress.remaining]),
        expected_by=progress.decision_expected_by,
    )
