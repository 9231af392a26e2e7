"""Filing a complaint or suggestion: checked, routed to its category's department with
that category's SLA, and acknowledged to the citizen by SMS."""

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kaunti.accounts.models import User
from kaunti.core.models import Ward
from kaunti.core.services.audit import record_event
from kaunti.eservices.definitions.documents import JPEG, PNG
from kaunti.eservices.models import Complaint, ComplaintCategory, ComplaintEventKind, ComplaintKind
from kaunti.eservices.references import new_complaint_reference
from kaunti.eservices.services.files import removed_unless_completed, store_checked_upload
from kaunti.eservices.services.notices import record_complaint_event, text_person
from kaunti.eservices.uploads import CheckedUpload, Upload, check_upload

MAX_DESCRIPTION = 2000
MAX_PHOTO_BYTES = 5 * 1024 * 1024
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
