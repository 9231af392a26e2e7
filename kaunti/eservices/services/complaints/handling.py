"""A filed complaint handled: assigned, taken up and answered by the department, then
rated or reopened by the citizen (within 30 days of the answer)."""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kaunti.accounts.models import User
from kaunti.accounts.permissions import has_permission, require_permission
from kaunti.core.services.audit import record_event
from kaunti.eservices.models import (
    UNRESOLVED_STATUSES,
    Complaint,
    ComplaintEventKind,
    ComplaintStatus,
)
from kaunti.eservices.services.notices import record_complaint_event, text_person

HANDLE_ACTION = "eservices.handle_complaint"
REOPEN_WINDOW_DAYS = 30


def _lock(complaint: Complaint) -> Complaint:
    return (
        Complaint.objects.select_for_update(of=("self",))
        .select_related("department", "category", "complainant")
        .get(pk=complaint.pk)
    )


@transaction.atomic
def assign_complaint(*, complaint: Complaint, actor: User, assignee: User | None) -> Complaint:
    """A supervisor gives a complaint to an officer of the owning department."""
    locked = _lock(complaint)
    require_permission(actor, "eservices.reassign", locked.department)
    if locked.status not in UNRESOLVED_STATUSES:
        raise ValidationError(_("This complaint is resolved; reopen it first."))
    if assignee is not None and not has_permission(assignee, HANDLE_ACTION, locked.department):
        raise ValidationError(
            _("%(name)s does not handle complaints in %(department)s.")
            % {
                "name": assignee.full_name or assignee.username,
                "department": locked.department.localized_name,
            }
        )
    locked.assigned_to = assignee
    locked.save(update_fields=["assigned_to", "updated_at"])
    record_complaint_event(
        complaint=locked,
        kind=ComplaintEventKind.ASSIGNED,
        actor=actor,
        is_visible_to_complainant=False,
        note=assignee.username if assignee else "",
    )
    record_event(
        actor=actor,
        action="eservices.complaint_assigned",
        target=locked,
        data={"reference": locked.reference, "to": assignee.username if assignee else None},
    )
    return locked


@transaction.atomic
def start_handling_complaint(*, complaint: Complaint, actor: User) -> Complaint:
    """An officer takes up a complaint (it is theirs unless a supervisor gave it to
    someone else)."""
    locked = _lock(complaint)
    require_permission(actor, HANDLE_ACTION, locked.department)
    if locked.status not in (ComplaintStatus.OPEN, ComplaintStatus.REOPENED):
        raise ValidationError(_("This complaint is already being handled or resolved."))
    locked.status = ComplaintStatus.IN_PROGRESS
    if locked.assigned_to_id is None:
        locked.assigned_to = actor
    locked.save(update_fields=["status", "assigned_to", "updated_at"])
    record_complaint_event(complaint=locked, kind=ComplaintEventKind.STARTED, actor=actor)
    record_event(
        actor=actor,
        action="eservices.complaint_started",
        target=locked,
        data={"reference": locked.reference},
    )
    return locked


@transaction.atomic
def resolve_complaint(*, complaint: Complaint, actor: User, resolution: str) -> Complaint:
    """Answer a complaint; the citizen is told the answer and may rate it or reopen it."""
    text = (resolution or "").strip()
    if not text:
        raise ValidationError({"resolution": [_("Say what was done, for the citizen.")]})
    locked = _lock(complaint)
    require_permission(actor, HANDLE_ACTION, locked.department)
    if locked.status not in UNRESOLVED_STATUSES:
        raise ValidationError(_("This complaint is already resolved."))
    locked.status = ComplaintStatus.RESOLVED
    locked.resolution = text
    locked.resolved_at = timezone.now()
    locked.resolved_by = actor
    locked.save(update_fields=["status", "resolution", "resolved_at", "resolved_by", "updated_at"])
    record_complaint_event(
        complaint=locked, kind=ComplaintEventKind.RESOLVED, actor=actor, note=text
    )
    text_person(
        person=locked.complainant,
        template="complaint_resolved",
        context={"reference": locked.reference, "resolution": text[:300]},
    )
    record_event(
        actor=actor,
        action="eservices.complaint_resolved",
        target=locked,
        data={"reference": locked.reference},
    )
    return locked


def _require_complainant(complaint: Complaint, actor: User) -> None:
    if not (actor.is_authenticated and complaint.complainant_id == actor.pk):
        raise PermissionDenied("not the complainant")


@transaction.atomic
def rate_complaint_resolution(
    *, complaint: Complaint, actor: User, rating: int, comment: str = ""
) -> Complaint:
    """The citizen rates the answer, 1 (poor) to 5 (very good), once per answer."""
    locked = _lock(complaint)
    _require_complainant(locked, actor)
    if locked.status != ComplaintStatus.RESOLVED:
        raise ValidationError(_("Only a resolved complaint can be rated."))
    if locked.rating is not None:
        raise ValidationError(_("You have already rated this answer."))
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationError({"rating": [_("Choose a rating from 1 to 5.")]})
    locked.rating = rating
    locked.rating_comment = comment.strip()[:500]
    locked.rated_at = timezone.now()
    locked.save(update_fields=["rating", "rating_comment", "rated_at", "updated_at"])
    record_complaint_event(
        complaint=locked, kind=ComplaintEventKind.RATED, actor=actor, note=f"{rating}/5"
    )
    record_event(
        actor=actor,
        action="eservices.complaint_rated",
        target=locked,
        data={"reference": locked.reference, "rating": rating},
    )
    return locked


@transaction.atomic
def reopen_complaint(*, complaint: Complaint, actor: User, reason: str) -> Complaint:
    """The citizen reopens an answer they are not satisfied with (within 30 days); it
    gets a fresh SLA, and can escalate again."""
    text = (reason or "").strip()
    if not text:
        raise ValidationError({"reason": [_("Say why the answer does not resolve it.")]})
    locked = _lock(complaint)
    _require_complainant(locked, actor)
    if locked.status != ComplaintStatus.RESOLVED or locked.resolved_at is None:
        raise ValidationError(_("Only a resolved complaint can be reopened."))
    now = timezone.now()
    if now - locked.resolved_at > timedelta(days=REOPEN_WINDOW_DAYS):
        raise ValidationError(
            _("A complaint can be reopened within %(n)s days of its answer; please file a new one.")
            % {"n": REOPEN_WINDOW_DAYS}
        )
    previous = {"resolution": locked.resolution, "rating": locked.rating}
    locked.status = ComplaintStatus.REOPENED
    locked.reopen_count += 1
    locked.due_at = now + timedelta(hours=locked.category.sla_hours)
    locked.escalated_at = None
    locked.escalated_to = None
    locked.resolution = ""
    locked.resolved_at = None
    locked.resolved_by = None
    locked.rating = None
    locked.rating_comment = ""
    locked.rated_at = None
    locked.save()
    record_complaint_event(
        complaint=locked, kind=ComplaintEventKind.REOPENED, actor=actor, note=text
    )
    record_event(
        actor=actor,
        action="eservices.complaint_reopened",
        target=locked,
        data={"reference": locked.reference, "previous": previous},
    )
    return locked
