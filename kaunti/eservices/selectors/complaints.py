"""Reads of complaints: a citizen's own, and a department's inbox."""

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils import timezone

from kaunti.accounts.permissions import department_ids_where, has_permission
from kaunti.eservices.models import UNRESOLVED_STATUSES, Complaint, ComplaintEvent
from kaunti.eservices.references import normalise_reference
from kaunti.eservices.selectors.applications.files import StoredFile

VIEW_ACTION = "eservices.view_complaints"


def list_citizen_complaints(*, user: Any) -> QuerySet[Complaint]:
    """The complaints and suggestions `user` filed, newest first."""
    if not getattr(user, "is_authenticated", False):
        return Complaint.objects.none()
    return (
        Complaint.objects.filter(complainant=user)
        .select_related("category", "ward", "department")
        .order_by("-created_at", "-pk")
    )


def get_citizen_complaint(*, user: Any, reference: str) -> Complaint | None:
    """One of `user`'s own complaints; None for anyone else's."""
    return (
        list_citizen_complaints(user=user).filter(reference=normalise_reference(reference)).first()
    )


def list_complaint_inbox(
    *,
    user: Any,
    status: str = "",
    ward_code: str = "",
    category_code: str = "",
    overdue_only: bool = False,
    escalated_to_me: bool = False,
    now: datetime | None = None,
) -> QuerySet[Complaint]:
    """Complaints of the departments where `user` may view complaints (with their
    directorates), unresolved first and soonest due first."""
    complaints = Complaint.objects.filter(
        department_id__in=department_ids_where(user, VIEW_ACTION)
    ).select_related("category", "ward", "department", "assigned_to", "escalated_to")
    if status:
        complaints = complaints.filter(status=status)
    if ward_code:
        complaints = complaints.filter(ward__code=ward_code)
    if category_code:
        complaints = complaints.filter(category__code=category_code)
    if overdue_only:
        complaints = complaints.filter(
            status__in=UNRESOLVED_STATUSES, due_at__lt=now or timezone.now()
        )
    if escalated_to_me:
        complaints = complaints.filter(escalated_to=user)
    return complaints.order_by("due_at", "pk")


def access_complaint_for_staff(*, user: Any, reference: str) -> Complaint | None:
    """One complaint for staff: None when there is none, `PermissionDenied` when `user`
    may not view its department's complaints."""
    complaint = (
        Complaint.objects.filter(reference=normalise_reference(reference))
        .select_related("category", "ward", "department", "complainant", "assigned_to")
        .first()
    )
    if complaint is not None and not has_permission(user, VIEW_ACTION, complaint.department):
        raise PermissionDenied(VIEW_ACTION)
    return complaint


def list_complaint_timeline(
    *, complaint: Complaint, for_complainant: bool
) -> QuerySet[ComplaintEvent]:
    """A complaint's history, oldest first; the citizen's view leaves out internal entries."""
    events = complaint.events.select_related("actor").order_by("occurred_at", "id")
    if for_complainant:
        events = events.filter(is_visible_to_complainant=True)
    return events


def is_complaint_overdue(complaint: Complaint, *, now: datetime | None = None) -> bool:
    """Unresolved and past its SLA (what the inbox highlights)."""
    return complaint.status in UNRESOLVED_STATUSES and complaint.due_at < (now or timezone.now())


def open_complaint_photo(*, user: Any, reference: str) -> StoredFile | None:
    """A complaint's photo, for the complainant or staff who may view the complaint."""
    complaint = (
        Complaint.objects.filter(reference=normalise_reference(reference))
        .exclude(Q(photo_storage_name=""))
        .select_related("department")
        .first()
    )
    if complaint is None or not getattr(user, "is_authenticated", False):
        return None
    if complaint.complainant_id != user.pk and not has_permission(
        user, VIEW_ACTION, complaint.department
    ):
        return None
    return StoredFile(
        display_name=complaint.photo_display_name,
        content_type=complaint.photo_content_type,
        size=complaint.photo_size,
        storage_name=complaint.photo_storage_name,
    )
