"""Escalation: a complaint unresolved past its SLA goes to a supervisor of its department
(a periodic task runs `escalate_overdue_complaints`; running it twice escalates nothing
twice)."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from kaunti.accounts.models import Role, RoleAssignment, User
from kaunti.core.models import Department
from kaunti.core.services.audit import record_event
from kaunti.eservices.models import UNRESOLVED_STATUSES, Complaint, ComplaintEventKind
from kaunti.eservices.services.notices import record_complaint_event, text_person


def _departments_up(department: Department) -> list[Department]:
    chain: list[Department] = []
    current: Department | None = department
    while current is not None and current not in chain:
        chain.append(current)
        current = current.parent
    return chain


def find_supervisor(*, department: Department) -> User | None:
    """The supervisor a complaint escalates to: the longest-serving active supervisor of
    the department, else of the department above it."""
    for candidate in _departments_up(department):
        assignment = (
            RoleAssignment.objects.filter(
                department=candidate, role=Role.SUPERVISOR, user__is_active=True
            )
            .select_related("user")
            .order_by("granted_at", "pk")
            .first()
        )
        if assignment is not None:
            return assignment.user
    return None


def escalate_overdue_complaints(*, now: datetime | None = None, limit: int = 500) -> int:
    """Escalate each unresolved complaint past its SLA to a supervisor, once; return how
    many were escalated. Each escalation is its own transaction and audit record."""
    now = now or timezone.now()
    due = list(
        Complaint.objects.filter(
            status__in=UNRESOLVED_STATUSES, due_at__lt=now, escalated_at__isnull=True
        )
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    escalated = 0
    for pk in due:
        with transaction.atomic():
            complaint = (
                Complaint.objects.select_for_update(of=("self",))
                .select_related("department", "category", "complainant")
                .filter(
                    pk=pk,
                    status__in=UNRESOLVED_STATUSES,
                    due_at__lt=now,
                    escalated_at__isnull=True,
                )
                .first()
            )
            if complaint is None:
                continue  # resolved or escalated meanwhile
            supervisor = find_supervisor(department=complaint.department)
            complaint.escalated_at = now
            complaint.escalated_to = supervisor
            complaint.save(update_fields=["escalated_at", "escalated_to", "updated_at"])
            record_complaint_event(
                complaint=complaint,
                kind=ComplaintEventKind.ESCALATED,
                actor=None,
                is_visible_to_complainant=True,
            )
            if supervisor is not None:
                text_person(
                    person=supervisor,
                    template="complaint_escalated",
                    context={
                        "reference": complaint.reference,
                        # In the supervisor's language, like the rest of the SMS.
                        "category": complaint.category.name(
                            getattr(supervisor, "preferred_language", "") or "en"
                        ),
                        "due_at": timezone.localtime(complaint.due_at),
                    },
                )
            record_event(
                actor=None,
                action="eservices.complaint_escalated",
                target=complaint,
                data={
                    "reference": complaint.reference,
                    "to": supervisor.username if supervisor else None,
                    "due_at": complaint.due_at,
                },
            )
            escalated += 1
    return escalated
