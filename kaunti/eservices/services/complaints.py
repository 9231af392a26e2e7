"""Complaints and suggestions: filing, routing, handling, escalation, rating, reopening.

A complaint goes to the department that owns its category, with that category's SLA.
When the SLA passes unresolved it escalates to a supervisor of that department (a
periodic task runs `escalate_overdue_complaints`; running it twice escalates nothing
twice). The citizen rates the answer and may reopen it within 30 days.
"""

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kaunti.accounts.models import Role, RoleAssignment, User
from kaunti.accounts.permissions import has_permission, require_permission
from kaunti.core.audit import record_event
from kaunti.core.models import Department, Ward
from kaunti.eservices.definitions import JPEG, PNG
from kaunti.eservices.models import (
    UNRESOLVED_STATUSES,
    Complaint,
    ComplaintCategory,
    ComplaintEventKind,
    ComplaintKind,
    ComplaintStatus,
)
from kaunti.eservices.references import new_complaint_reference
from kaunti.eservices.services.files import removed_unless_completed, store_checked_upload
from kaunti.eservices.services.notices import record_complaint_event, text_person
from kaunti.eservices.uploads import CheckedUpload, Upload, check_upload

HANDLE_ACTION = "eservices.handle_complaint"
MAX_DESCRIPTION = 2000
MAX_PHOTO_BYTES = 5 * 1024 * 1024
REOPEN_WINDOW_DAYS = 30
COORDINATE_PLACES = Decimal("0.000001")


def _coordinate(raw: Decimal | str | None, *, limit: int, name: str) -> Decimal | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        value = Decimal(str(raw).strip()).quantize(COORDINATE_PLACES)
    except InvalidOperation as exc:
        raise ValidationError(
            {name: [_("Enter the position in decimal degrees, like -0.2712.")]}
        ) from exc
    if not -limit <= value <= limit:
        raise ValidationError({name: [_("This position is not on Earth.")]})
    return value


def _check_photo(photo: Upload | None) -> CheckedUpload | None:
    if photo is None:
        return None
    try:
        return check_upload(
            photo,
            content_types=frozenset({JPEG, PNG}),
            max_bytes=MAX_PHOTO_BYTES,
            label=_("Photo"),
        )
    except ValidationError as exc:
        raise ValidationError({"photo": exc.messages}) from exc


def file_complaint(
    *,
    complainant: User,
    category: ComplaintCategory,
    ward: Ward,
    description: str,
    kind: str = ComplaintKind.COMPLAINT,
    photo: Upload | None = None,
    latitude: Decimal | str | None = None,
    longitude: Decimal | str | None = None,
    location_text: str = "",
) -> Complaint:
    """File a complaint or suggestion; it is routed to the category's department and
    the citizen gets its reference by SMS."""
    if not (complainant.is_authenticated and complainant.is_active):
        raise PermissionDenied("sign in to file a complaint")
    errors: dict[str, list[str]] = {}
    text = (description or "").strip()
    if not text:
        errors["description"] = [_("Describe the problem or the suggestion.")]
    elif len(text) > MAX_DESCRIPTION:
        errors["description"] = [
            _("At most %(n)s characters; a photo can show the rest.") % {"n": MAX_DESCRIPTION}
        ]
    if not category.is_active:
        errors["category"] = [_("Choose one of the categories offered.")]
    if kind not in ComplaintKind.values:
        errors["kind"] = [_("Choose complaint or suggestion.")]
    if errors:
        raise ValidationError(errors)
    lat = _coordinate(latitude, limit=90, name="latitude")
    lon = _coordinate(longitude, limit=180, name="longitude")
    if (lat is None) != (lon is None):
        raise ValidationError({"longitude": [_("Give both latitude and longitude, or neither.")]})
    checked = _check_photo(photo)
    stored: list[str] = []
    with removed_unless_completed(stored), transaction.atomic():
        now = timezone.now()
        for _attempt in range(5):
            reference = new_complaint_reference()
            if not Complaint.objects.filter(reference=reference).exists():
                break
        else:
            raise IntegrityError("could not draw a free complaint reference")
        complaint = Complaint(
            reference=reference,
            complainant=complainant,
            kind=kind,
            category=category,
            department=category.department,
            ward=ward,
            description=text,
            latitude=lat,
            longitude=lon,
            location_text=location_text.strip()[:200],
            due_at=now + timedelta(hours=category.sla_hours),
        )
        if checked is not None:
            name = store_checked_upload(checked=checked, folder=f"complaints/{reference}")
            stored.append(name)
            complaint.photo_storage_name = name
            complaint.photo_content_type = checked.content_type
            complaint.photo_display_name = checked.display_name
            complaint.photo_size = checked.size
        complaint.save()
        record_complaint_event(
            complaint=complaint, kind=ComplaintEventKind.FILED, actor=complainant
        )
        text_person(
            person=complainant,
            template="complaint_received",
            context={
                "reference": complaint.reference,
                "category": category.name(complainant.preferred_language),
                "due_at": timezone.localtime(complaint.due_at),
            },
        )
        record_event(
            actor=complainant,
            action="eservices.complaint_filed",
            target=complaint,
            data={
                "reference": complaint.reference,
                "category": category.code,
                "department": category.department.code,
                "ward": ward.code,
                "photo": checked is not None,
            },
        )
    return complaint


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
