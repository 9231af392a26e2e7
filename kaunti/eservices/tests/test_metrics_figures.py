"""/metrics: complaints past their SLA, escalated or not, by the escalation task's rule."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from kaunti.accounts.models import User
from kaunti.core.models import Ward
from kaunti.core.tests.scrape import scrape, value
from kaunti.eservices.models import (
    Application,
    Complaint,
    ComplaintCategory,
    ComplaintStatus,
    StepStatus,
)
from kaunti.eservices.services.complaints.filing import file_complaint
from kaunti.eservices.tests.conftest import png

pytestmark = pytest.mark.django_db


def _complaint(citizen: User) -> Complaint:
    return file_complaint(
        complainant=citizen,
        category=ComplaintCategory.objects.get(code="water"),
        ward=Ward.objects.get(code="0455"),
        description="No water at Mirangine market for three days.",
        latitude="-0.123456",
        longitude="36.4321",
        location_text="Mirangine market gate",
        photo=png("tap.png"),
    )


def test_complaints_past_their_sla(
    client: Client, settings: Any, catalogue: None, citizen: User, media_root: Any
) -> None:
    within_sla = _complaint(citizen)
    overdue = _complaint(citizen)
    escalated = _complaint(citizen)
    resolved = _complaint(citizen)
    past = timezone.now() - timedelta(hours=1)
    Complaint.objects.filter(pk__in=[overdue.pk, escalated.pk, resolved.pk]).update(due_at=past)
    Complaint.objects.filter(pk=escalated.pk).update(escalated_at=past)
    Complaint.objects.filter(pk=resolved.pk).update(
        status=ComplaintStatus.RESOLVED, resolved_at=past
    )

    samples = scrape(client, settings)
    assert value(samples, "kaunti_eservices_complaints_overdue", escalated="no") == 1
    assert value(samples, "kaunti_eservices_complaints_overdue", escalated="yes") == 1
    assert value(samples, "kaunti_eservices_application_steps_overdue") == 0
    assert within_sla.due_at > timezone.now()


def test_open_application_steps_past_their_sla(
    client: Client, settings: Any, in_review_ubp: Application
) -> None:
    open_steps = in_review_ubp.steps.filter(status=StepStatus.OPEN)
    assert open_steps.exists()
    samples = scrape(client, settings)
    assert value(samples, "kaunti_eservices_application_steps_overdue") == 0

    open_steps.update(due_at=timezone.now() - timedelta(minutes=1))
    samples = scrape(client, settings)
    assert value(samples, "kaunti_eservices_application_steps_overdue") == open_steps.count()
