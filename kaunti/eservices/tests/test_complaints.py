"""Complaints: routed by category, escalated when their SLA passes, rated and reopened."""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from kaunti.accounts.models import User
from kaunti.core.models import AuditEvent, OutboxMessage, Ward
from kaunti.eservices.models import Complaint, ComplaintCategory, ComplaintStatus
from kaunti.eservices.selectors.complaints import (
    access_complaint_for_staff,
    get_citizen_complaint,
    list_citizen_complaints,
    list_complaint_inbox,
    list_complaint_timeline,
    open_complaint_photo,
)
from kaunti.eservices.services.complaints.escalation import escalate_overdue_complaints
from kaunti.eservices.services.complaints.filing import file_complaint
from kaunti.eservices.services.complaints.handling import (
    assign_complaint,
    rate_complaint_resolution,
    reopen_complaint,
    resolve_complaint,
    start_handling_complaint,
)
from kaunti.eservices.tests.conftest import RawUpload, pdf, png, stored_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def water_staff(make_staff: Callable[..., User]) -> dict[str, User]:
    supervisor = make_staff(["supervisor"], department="water")
    supervisor.phone = "254733000444"
    supervisor.save(update_fields=["phone"])
    return {
        "officer": make_staff(["approver"], department="water"),
        "supervisor": supervisor,
        "health_officer": make_staff(["approver"], department="health"),
    }


@pytest.fixture
def complaint(catalogue: None, citizen: User) -> Complaint:
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


def state() -> tuple[object, ...]:
    return (
        list(
            Complaint.objects.order_by("pk").values_list(
                "status", "assigned_to_id", "escalated_at", "rating", "resolution", "reopen_count"
            )
        ),
        AuditEvent.objects.count(),
        OutboxMessage.objects.count(),
    )


def test_a_complaint_is_routed_to_the_categorys_department_with_its_sla(
    complaint: Complaint, citizen: User
) -> None:
    assert complaint.reference.startswith("CMP-")
    assert complaint.department.code == "water"
    assert complaint.due_at - complaint.created_at < timedelta(hours=48, seconds=5)
    assert complaint.due_at - complaint.created_at > timedelta(hours=47, minutes=59)
    assert (complaint.latitude, complaint.longitude) == (Decimal("-0.123456"), Decimal("36.432100"))
    assert complaint.photo_content_type == "image/png"
    sms = OutboxMessage.objects.get(template="eservices_complaint_received")
    assert sms.recipient == citizen.phone
    assert complaint.reference in sms.body


def test_the_inbox_shows_a_departments_complaints_to_its_staff_only(
    complaint: Complaint, water_staff: dict[str, User]
) -> None:
    assert list(list_complaint_inbox(user=water_staff["officer"])) == [complaint]
    assert list(list_complaint_inbox(user=water_staff["health_officer"])) == []
    assert (
        access_complaint_for_staff(user=water_staff["officer"], reference=complaint.reference)
        == complaint
    )
    with pytest.raises(PermissionDenied):
        access_complaint_for_staff(
            user=water_staff["health_officer"], reference=complaint.reference
        )


def test_a_citizen_sees_only_their_own_complaints(
    complaint: Complaint, citizen: User, other_citizen: User
) -> None:
    assert list(list_citizen_complaints(user=citizen)) == [complaint]
    assert get_citizen_complaint(user=other_citizen, reference=complaint.reference) is None
    assert open_complaint_photo(user=other_citizen, reference=complaint.reference) is None
    photo = open_complaint_photo(user=citizen, reference=complaint.reference.lower())
    assert photo is not None
    assert photo.content_type == "image/png"


def test_an_overdue_complaint_escalates_to_the_supervisor_once(
    complaint: Complaint, water_staff: dict[str, User]
) -> None:
    assert escalate_overdue_complaints() == 0
    later = complaint.due_at + timedelta(minutes=1)
    assert escalate_overdue_complaints(now=later) == 1
    complaint.refresh_from_db()
    assert complaint.escalated_to == water_staff["supervisor"]
    assert complaint.escalated_at == later
    assert (
        OutboxMessage.objects.filter(
            template="eservices_complaint_escalated", recipient="254733000444"
        ).count()
        == 1
    )
    assert [
        c.reference
        for c in list_complaint_inbox(user=water_staff["supervisor"], escalated_to_me=True)
    ] == [complaint.reference]
    before = state()
    assert escalate_overdue_complaints(now=later + timedelta(hours=5)) == 0
    assert state() == before


def test_a_resolved_complaint_does_not_escalate(
    complaint: Complaint, water_staff: dict[str, User]
) -> None:
    resolve_complaint(
        complaint=complaint, actor=water_staff["officer"], resolution="Pipe repaired."
    )
    assert escalate_overdue_complaints(now=complaint.due_at + timedelta(days=1)) == 0


def test_the_citizen_rates_the_answer_once_and_may_reopen_it(
    complaint: Complaint, citizen: User, water_staff: dict[str, User]
) -> None:
    start_handling_complaint(complaint=complaint, actor=water_staff["officer"])
    resolved = resolve_complaint(
        complaint=complaint,
        actor=water_staff["officer"],
        resolution="The pipe was repaired on Monday.",
    )
    assert resolved.status == ComplaintStatus.RESOLVED
    assert "pipe was repaired" in OutboxMessage.objects.latest("id").body
    rated = rate_complaint_resolution(complaint=complaint, actor=citizen, rating=2, comment="Slow.")
    assert (rated.rating, rated.rating_comment) == (2, "Slow.")
    before = state()
    with pytest.raises(ValidationError, match="already rated"):
        rate_complaint_resolution(complaint=complaint, actor=citizen, rating=5)
    assert state() == before

    reopened = reopen_complaint(complaint=complaint, actor=citizen, reason="No water again today.")
    assert (reopened.status, reopened.reopen_count, reopened.rating, reopened.escalated_at) == (
        ComplaintStatus.REOPENED,
        1,
        None,
        None,
    )
    assert reopened.due_at > timezone.now() + timedelta(hours=47)
    kinds = [e.kind for e in list_complaint_timeline(complaint=reopened, for_complainant=True)]
    assert kinds == ["filed", "started", "resolved", "rated", "reopened"]


def test_only_the_complainant_rates_or_reopens_and_only_within_30_days(
    complaint: Complaint, citizen: User, other_citizen: User, water_staff: dict[str, User]
) -> None:
    resolve_complaint(complaint=complaint, actor=water_staff["officer"], resolution="Done.")
    before = state()
    with pytest.raises(PermissionDenied):
        rate_complaint_resolution(complaint=complaint, actor=other_citizen, rating=1)
    with pytest.raises(PermissionDenied):
        reopen_complaint(complaint=complaint, actor=other_citizen, reason="x")
    with pytest.raises(ValidationError, match="from 1 to 5"):
        rate_complaint_resolution(complaint=complaint, actor=citizen, rating=6)
    assert state() == before
    Complaint.objects.filter(pk=complaint.pk).update(
        resolved_at=timezone.now() - timedelta(days=31)
    )
    before = state()
    with pytest.raises(ValidationError, match="within 30 days"):
        reopen_complaint(complaint=complaint, actor=citizen, reason="Still broken.")
    assert state() == before


def test_staff_of_another_department_cannot_handle_a_complaint(
    complaint: Complaint, water_staff: dict[str, User]
) -> None:
    before = state()
    with pytest.raises(PermissionDenied):
        resolve_complaint(complaint=complaint, actor=water_staff["health_officer"], resolution="x")
    with pytest.raises(PermissionDenied):
        start_handling_complaint(complaint=complaint, actor=water_staff["health_officer"])
    with pytest.raises(PermissionDenied):
        assign_complaint(
            complaint=complaint, actor=water_staff["officer"], assignee=water_staff["officer"]
        )
    with pytest.raises(ValidationError, match="does not handle complaints"):
        assign_complaint(
            complaint=complaint,
            actor=water_staff["supervisor"],
            assignee=water_staff["health_officer"],
        )
    assert state() == before
    assign_complaint(
        complaint=complaint, actor=water_staff["supervisor"], assignee=water_staff["officer"]
    )
    complaint.refresh_from_db()
    assert complaint.assigned_to == water_staff["officer"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"description": "  "}, "description"),
        ({"latitude": "-95", "longitude": "36"}, "latitude"),
        ({"latitude": "-0.1", "longitude": None}, "longitude"),
        ({"photo": pdf("tap.png")}, "photo"),
        ({"photo": RawUpload("../tap.png", b"\x89PNG\r\n\x1a\n0000")}, "photo"),
    ],
)
def test_a_bad_complaint_is_refused_and_nothing_is_stored(
    catalogue: None, citizen: User, media_root: Path, changes: dict[str, object], field: str
) -> None:
    arguments: dict[str, object] = {
        "complainant": citizen,
        "category": ComplaintCategory.objects.get(code="roads"),
        "ward": Ward.objects.get(code="0453"),
        "description": "Pothole on the Ol Kalou to Nyahururu road.",
        **changes,
    }
    with pytest.raises(ValidationError) as raised:
        file_complaint(**arguments)  # type: ignore[arg-type]
    assert list(raised.value.message_dict) == [field]
    assert Complaint.objects.count() == 0
    assert stored_files(media_root) == []
    assert AuditEvent.objects.filter(action="eservices.complaint_filed").count() == 0
