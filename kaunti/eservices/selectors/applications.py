"""Reads of applications: a citizen's own, a department's work queue, documents, fees."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kaunti.accounts.permissions import (
    department_ids_anyone_may,
    department_ids_where,
    has_permission,
    has_permission_in_any,
)
from kaunti.core.models import Department
from kaunti.core.money import ZERO
from kaunti.core.selectors import list_wards
from kaunti.eservices.definitions import (
    STEP_ACTIONS,
    FieldType,
    StepKind,
    clean_answers,
    current_language,
    parse_documents,
    parse_form,
    year_day,
)
from kaunti.eservices.fees import FeeBreakdown, compute_fees
from kaunti.eservices.models import (
    Application,
    ApplicationDocument,
    ApplicationEvent,
    ApplicationStatus,
    ApplicationStep,
    FeeSchedule,
    Service,
    StepStatus,
    ValidityRule,
)
from kaunti.eservices.permits import render_document_pdf
from kaunti.eservices.references import normalise_reference
from kaunti.eservices.selectors.catalogue import get_fee_schedule_in_force
from kaunti.eservices.validity import valid_until_for

VIEW_ACTION = "eservices.view_applications"


def ward_codes() -> frozenset[str]:
    """Codes of the deployment county's wards: the answers a ward question accepts."""
    return frozenset(list_wards().values_list("code", flat=True))


# --- Fees -----------------------------------------------------------------------------------


def compute_application_fees(
    *, application: Application, answers: Mapping[str, str], on_date: date
) -> tuple[FeeBreakdown, FeeSchedule | None]:
    """The breakdown of `answers` under the version's schedule in force on `on_date`.

    `ValidationError` (keyed by answer) when an answer the fee depends on is missing, or
    when no schedule is in force.
    """
    code = application.version.fee_schedule_code
    if not code:
        return FeeBreakdown(lines=(), total=ZERO), None
    schedule = get_fee_schedule_in_force(code=code, on_date=on_date)
    if schedule is None:
        raise ValidationError(
            _("No fee schedule is in force for this service today. Please contact the county.")
        )
    return compute_fees(schedule=schedule, answers=answers, on_date=on_date), schedule


def preview_fees(
    *, user: Any, application: Application, on_date: date | None = None
) -> FeeBreakdown:
    """The fee the applicant would be billed if they submitted now (shown before submit)."""
    if application.applicant_id != getattr(user, "pk", None):
        raise PermissionDenied("not the applicant")
    if application.status != ApplicationStatus.DRAFT:
        return get_billed_fees(application=application)
    fields = parse_form(application.version.form)
    cleaned = clean_answers(fields, application.answers, ward_codes=ward_codes(), require_all=False)
    answers = {k: v for k, v in cleaned.answers.items() if k not in cleaned.errors}
    breakdown, _schedule = compute_application_fees(
        application=application, answers=answers, on_date=on_date or timezone.localdate()
    )
    return breakdown


def get_billed_fees(*, application: Application) -> FeeBreakdown:
    """The breakdown as billed on submission (empty for a draft)."""
    return FeeBreakdown.from_json(application.fees or {})


# --- A citizen's own --------------------------------------------------------------------------


def list_citizen_applications(*, user: Any) -> QuerySet[Application]:
    """The applications `user` made, newest first."""
    if not getattr(user, "is_authenticated", False):
        return Application.objects.none()
    return (
        Application.objects.filter(applicant=user)
        .select_related("service", "version", "issued_document", "bill")
        .order_by("-created_at", "-pk")
    )


def get_citizen_application(
    *, user: Any, reference: str, with_page_details: bool = True
) -> Application | None:
    """One of `user`'s own applications; None for anyone else's (or none at all).

    With `with_page_details` off, only what the API shows is read with it (service,
    version, bill, issued document), not the ward, applicant, department and fee
    schedule its pages show: a narrower row, and the API asks for it on every call.
    """
    applications = list_citizen_applications(user=user)
    if with_page_details:
        applications = applications.select_related(
            "ward", "applicant", "service__department", "fee_schedule"
        )
    return applications.filter(reference=normalise_reference(reference)).first()


def get_renewable_application(*, user: Any, service: Service) -> Application | None:
    """`user`'s latest issued application of `service`, to renew (None if there is none,
    the service cannot be renewed, or renewing it now would add nothing)."""
    if service.current_version is None or not service.current_version.is_renewable:
        return None
    latest = (
        list_citizen_applications(user=user)
        .filter(service=service, status=ApplicationStatus.ISSUED)
        .order_by("-issued_at")
        .first()
    )
    if latest is None or why_not_renewable(application=latest):
        return None
    return latest


def why_not_renewable(*, application: Application, on_date: date | None = None) -> str:
    """Why `application`'s issued document cannot be renewed on `on_date` (in the active
    language), or "" when it can: the service must still be renewable, the document
    issued and not revoked, not renewed already, and a renewal must cover a later period
    than the document does (a calendar-year permit renews from its rollover day, e.g.
    1 December, for the next year)."""
    on_date = on_date or timezone.localdate()
    version = application.service.current_version
    document = application.issued_document
    if (
        version is None
        or not version.is_renewable
        or not application.service.is_active
        or application.status != ApplicationStatus.ISSUED
        or document is None
        or document.revoked_at is not None
    ):
        return _("This document cannot be renewed; apply afresh.")
    renewed = (
        application.renewals.exclude(
            status__in=(ApplicationStatus.DRAFT, ApplicationStatus.REJECTED)
        )
        .order_by("-created_at")
        .first()
    )
    if renewed is not None:
        return _("%(number)s is already renewed (application %(reference)s).") % {
            "number": document.number,
            "reference": renewed.reference,
        }
    if document.valid_until is not None:
        renewal_until = valid_until_for(
            rule=version.validity_rule,
            months=version.validity_months,
            issued_on=on_date,
            next_year_from=version.next_year_from,
        )
        if renewal_until is not None and renewal_until <= document.valid_until:
            rollover = year_day(version.next_year_from)
            if version.validity_rule == ValidityRule.TO_31_DECEMBER and rollover is not None:
                opens = date(document.valid_until.year, *rollover)
            else:
                opens = document.valid_until + timedelta(days=1)
            return _(
                "%(number)s is valid until %(until)s already; you can renew it from %(opens)s."
            ) % {
                "number": document.number,
                "until": document.valid_until.strftime("%d/%m/%Y"),
                "opens": opens.strftime("%d/%m/%Y"),
            }
    return ""


def changed_since_renewed(application: Application) -> frozenset[str] | None:
    """For a renewal, the answers that differ from the renewed application's (None for an
    application that renews nothing)."""
    previous = application.renewal_of
    if previous is None:
        return None
    return frozenset(
        name
        for name, value in application.answers.items()
        if name != "application_type" and str(previous.answers.get(name, "")) != str(value)
    )


def required_documents(application: Application) -> dict[str, str]:
    """The documents `application` needs before it is submitted, kind to label (in the
    active language). A renewal follows each document's `required_on_renewal` rule, so the
    web and USSD renewals ask for the same things."""
    language = current_language()
    changed = changed_since_renewed(application)
    specs = {spec.kind: spec for spec in parse_documents(application.version.documents)}
    needed = {
        kind: spec.label(language)
        for kind, spec in specs.items()
        if spec.is_required(changed_answers=changed)
    }
    for field in parse_form(application.version.form):
        if field.type != FieldType.FILE or not field.required or field.document in needed:
            continue
        spec = specs.get(field.document)
        exempt = (
            spec is not None
            and changed is not None
            and not spec.required_on_renewal
            and not changed & set(spec.required_again_if_changed)
        )
        if not exempt:
            needed[field.document] = field.label(language)
    return needed


def list_application_timeline(
    *, application: Application, for_applicant: bool
) -> QuerySet[ApplicationEvent]:
    """The history of an application, oldest first. The applicant sees their own view:
    no internal entries (e.g. reassignments), and staff's internal notes stay in `data`,
    which their page must not show."""
    events = application.events.select_related("actor", "step").order_by("occurred_at", "id")
    if for_applicant:
        events = events.filter(is_visible_to_applicant=True)
    return events


def list_application_documents(
    *, application: Application, include_superseded: bool = False
) -> QuerySet[ApplicationDocument]:
    """Documents of an application (uploads and inspectors' photos)."""
    documents = application.documents.select_related("uploaded_by", "step")
    if not include_superseded:
        documents = documents.filter(superseded_at__isnull=True)
    return documents.order_by("kind", "-uploaded_at")


# --- Staff ------------------------------------------------------------------------------------


def _is_staff(user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False) and getattr(user, "is_county_staff", False)
    )


def _visible_to_staff(user: Any) -> Q:
    """Applications of a department where `user` may view applications, or with a step
    in one (a health inspector sees the business permits they inspect)."""
    ids = department_ids_where(user, VIEW_ACTION)
    has_step_here = ApplicationStep.objects.filter(
        application=OuterRef("pk"), department_id__in=ids
    )
    return Q(service__department_id__in=ids) | Q(Exists(has_step_here))


def _may_view(user: Any, application: Application) -> bool:
    """Staff of the service's department, or of a department one of its steps sits in."""
    if has_permission(user, VIEW_ACTION, application.service.department):
        return True
    departments = Department.objects.filter(
        pk__in=application.steps.values_list("department_id", flat=True)
    )
    return has_permission_in_any(user, VIEW_ACTION, departments)


def _application_by_reference(reference: str) -> Application | None:
    return (
        Application.objects.filter(reference=normalise_reference(reference))
        .select_related(
            "service__department", "version", "applicant", "ward", "bill", "issued_document"
        )
        .first()
    )


def access_application_for_staff(*, user: Any, reference: str) -> Application | None:
    """One application by reference for staff: None when there is none,
    `PermissionDenied` when `user` may not view it."""
    application = _application_by_reference(reference)
    if application is not None and not _may_view(user, application):
        raise PermissionDenied(VIEW_ACTION)
    return application


def access_step_for_staff(
    *, user: Any, reference: str, code: str
) -> tuple[Application, ApplicationStep | None] | None:
    """An application by reference and its step `code`, for staff about to act on it:
    None when there is no such application, `PermissionDenied` when `user` may not view
    it (as `access_application_for_staff`), the step None when it has no such step.

    The steps are read once, and the right to view is checked once over the service's
    department and every step's (the services check the right to act on the step again).
    """
    # Only what the check needs: the service acting on the step reads and locks the
    # application again, with what its answer shows.
    application = (
        Application.objects.filter(reference=normalise_reference(reference))
        .select_related("service__department")
        .first()
    )
    if application is None:
        return None
    steps = list(application.steps.select_related("department", "assigned_to").order_by("position"))
    departments = [application.service.department, *(step.department for step in steps)]
    if not has_permission_in_any(user, VIEW_ACTION, departments):
        raise PermissionDenied(VIEW_ACTION)
    return application, next((step for step in steps if step.code == code), None)


def list_department_applications(
    *,
    user: Any,
    service_code: str = "",
    ward_code: str = "",
    status: str = "",
    overdue_only: bool = False,
    now: datetime | None = None,
) -> QuerySet[Application]:
    """Applications `user` may view, filtered; overdue means a step past its SLA."""
    if not _is_staff(user):
        return Application.objects.none()
    applications = (
        Application.objects.filter(_visible_to_staff(user))
        .exclude(status=ApplicationStatus.DRAFT)
        .select_related("service", "ward", "applicant")
    )
    if service_code:
        applications = applications.filter(service__code=service_code)
    if ward_code:
        applications = applications.filter(ward__code=ward_code)
    if status:
        applications = applications.filter(status=status)
    if overdue_only:
        late = ApplicationStep.objects.filter(
            application=OuterRef("pk"),
            status=StepStatus.OPEN,
            due_at__lt=now or timezone.now(),
        )
        applications = applications.filter(Exists(late), status=ApplicationStatus.IN_REVIEW)
    return applications.order_by("-submitted_at", "-pk")


Assigned = Literal["any", "mine", "unassigned"]


def _actionable_steps(user: Any) -> Q:
    condition = Q(pk__in=[])
    for kind, action in STEP_ACTIONS.items():
        ids = department_ids_where(user, action)
        if ids:
            condition |= Q(kind=kind.value, department_id__in=ids)
    return condition


def list_work_queue(
    *,
    user: Any,
    service_code: str = "",
    ward_code: str = "",
    overdue_only: bool = False,
    assigned: Assigned = "any",
    now: datetime | None = None,
) -> QuerySet[ApplicationStep]:
    """Open steps `user` may act on (by the step's kind and department), soonest due
    first. With `assigned="any"`, steps assigned to someone else are left out."""
    if not _is_staff(user):
        return ApplicationStep.objects.none()
    steps = ApplicationStep.objects.filter(
        _actionable_steps(user),
        status=StepStatus.OPEN,
        application__status=ApplicationStatus.IN_REVIEW,
    ).select_related("application__service", "application__ward", "department", "assigned_to")
    if assigned == "mine":
        steps = steps.filter(assigned_to=user)
    elif assigned == "unassigned":
        steps = steps.filter(assigned_to__isnull=True)
    else:
        steps = steps.filter(Q(assigned_to__isnull=True) | Q(assigned_to=user))
    if service_code:
        steps = steps.filter(application__service__code=service_code)
    if ward_code:
        steps = steps.filter(application__ward__code=ward_code)
    if overdue_only:
        steps = steps.filter(due_at__lt=now or timezone.now())
    return steps.order_by("due_at", "pk")


def list_overdue_steps(*, user: Any, now: datetime | None = None) -> QuerySet[ApplicationStep]:
    """Open steps past their SLA in the departments where `user` supervises (may
    reassign), for the supervisor's "overdue" view."""
    ids = department_ids_where(user, "eservices.reassign")
    return (
        ApplicationStep.objects.filter(
            department_id__in=ids,
            status=StepStatus.OPEN,
            application__status=ApplicationStatus.IN_REVIEW,
            due_at__lt=now or timezone.now(),
        )
        .select_related("application__service", "application__ward", "department", "assigned_to")
        .order_by("due_at", "pk")
    )


def _nobody_may_act() -> Q:
    """Steps whose department (nor a department above it) has no active officer holding a
    role that may act on a step of their kind."""
    someone = Q(pk__in=[])
    for kind, action in STEP_ACTIONS.items():
        someone |= Q(kind=kind.value, department_id__in=department_ids_anyone_may(action))
    return ~someone


def list_unassignable_steps(*, user: Any) -> QuerySet[ApplicationStep]:
    """Steps of applications in review (open, or waiting for earlier ones) that nobody
    may act on, for a supervisor of the step's department or of the service's: they
    would only ever turn overdue, so they are shown at once (issue 14)."""
    ids = department_ids_where(user, "eservices.reassign")
    if not ids:
        return ApplicationStep.objects.none()
    return (
        ApplicationStep.objects.filter(
            Q(department_id__in=ids) | Q(application__service__department_id__in=ids),
            _nobody_may_act(),
            status__in=(StepStatus.OPEN, StepStatus.WAITING),
            application__status=ApplicationStatus.IN_REVIEW,
        )
        .select_related("application__service", "application__ward", "department")
        .order_by("application__paid_at", "application_id", "position")
    )


def unassignable_step_ids(*, steps: list[ApplicationStep]) -> set[int]:
    """Which of `steps` nobody may act on (the application page flags them)."""
    ids = [step.pk for step in steps]
    return set(
        ApplicationStep.objects.filter(_nobody_may_act(), pk__in=ids).values_list("pk", flat=True)
    )


def get_step_for_staff(*, user: Any, application: Application, code: str) -> ApplicationStep | None:
    """A step of an application `user` may view (the services check the right to act)."""
    if not _may_view(user, application):
        raise PermissionDenied(VIEW_ACTION)
    return application.steps.select_related("department", "assigned_to").filter(code=code).first()


def is_step_overdue(step: ApplicationStep, *, now: datetime | None = None) -> bool:
    """Open and past its SLA (what the work queue highlights)."""
    return (
        step.status == StepStatus.OPEN
        and step.due_at is not None
        and step.due_at < (now or timezone.now())
    )


def may_act_on_step(*, user: Any, step: ApplicationStep) -> bool:
    """Whether to offer `user` the step's actions (the services decide again)."""
    return step.status == StepStatus.OPEN and has_permission(
        user, STEP_ACTIONS[StepKind(step.kind)], step.department
    )


# --- Files: only through a permission check ---------------------------------------------------


@dataclass(frozen=True)
class StoredFile:
    """A file to hand to its owner or to staff: stream `open()` as an attachment named
    `display_name` with `content_type` (the type we detected, not the uploader's claim)."""

    display_name: str
    content_type: str
    size: int
    storage_name: str

    def open(self) -> "File[bytes]":
        return default_storage.open(self.storage_name, "rb")


def _may_see_application(user: Any, application: Application) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if application.applicant_id == user.pk:
        return True
    return bool(getattr(user, "is_county_staff", False)) and _may_view(user, application)


def open_application_document(*, user: Any, public_id: Any) -> StoredFile | None:
    """A document of an application, for its applicant or staff who may view it; None
    for anyone else (so nobody learns that the document exists)."""
    document = (
        ApplicationDocument.objects.filter(public_id=public_id)
        .select_related("application__service__department")
        .first()
    )
    if document is None or not _may_see_application(user, document.application):
        return None
    return StoredFile(
        display_name=document.display_name,
        content_type=document.content_type,
        size=document.size,
        storage_name=document.storage_name,
    )


@dataclass(frozen=True)
class RenderedDocument:
    """An issued document's PDF, to send as an attachment named `filename`."""

    filename: str
    content: bytes
    content_type: str = "application/pdf"


def render_issued_document(*, user: Any, reference: str, language: str) -> RenderedDocument | None:
    """The PDF of an issued permit/licence/certificate, for its applicant or staff who may
    view the application; None otherwise or when nothing was issued."""
    application = (
        Application.objects.filter(reference=normalise_reference(reference))
        .select_related("service__department", "version", "issued_document", "ward")
        .first()
    )
    if (
        application is None
        or application.issued_document is None
        or not _may_see_application(user, application)
    ):
        return None
    number = application.issued_document.number.replace("/", "-")
    return RenderedDocument(
        filename=f"{number}.pdf", content=render_document_pdf(application, language=language)
    )
