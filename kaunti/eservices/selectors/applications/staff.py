"""Applications as staff see them: those of the departments where they may view
applications, or where one of the application's steps sits."""

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from kaunti.accounts.permissions import department_ids_where, has_permission, has_permission_in_any
from kaunti.core.models import Department
from kaunti.eservices.models import Application, ApplicationStatus, ApplicationStep, StepStatus
from kaunti.eservices.references import normalise_reference

VIEW_ACTION = "eservices.view_applications"


def is_staff(user: Any) -> bool:
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


def may_view(user: Any, application: Application) -> bool:
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
    if application is not None and not may_view(user, application):
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
    if not is_staff(user):
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


def get_step_for_staff(*, user: Any, application: Application, code: str) -> ApplicationStep | None:
    """A step of an application `user` may view (the services check the right to act)."""
    if not may_view(user, application):
        raise PermissionDenied(VIEW_ACTION)
    return application.steps.select_related("department", "assigned_to").filter(code=code).first()
