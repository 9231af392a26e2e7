"""Reads of the catalogue: services to browse, their current definition, fee schedules."""

from datetime import date

from django.db.models import Q, QuerySet

from kaunti.eservices.definitions import VersionDefinition, parse_version
from kaunti.eservices.models import ComplaintCategory, FeeSchedule, Service, ServiceVersion


def list_services(*, query: str = "") -> QuerySet[Service]:
    """Services taking applications, searched in English and Kiswahili alike."""
    services = Service.objects.filter(is_active=True, current_version__isnull=False).select_related(
        "department", "current_version"
    )
    text = query.strip()
    if text:
        services = services.filter(
            Q(name_en__icontains=text)
            | Q(name_sw__icontains=text)
            | Q(description_en__icontains=text)
            | Q(description_sw__icontains=text)
            | Q(code__icontains=text)
        )
    return services.order_by("order", "name_en")


def get_service(*, code: str) -> Service | None:
    """A service taking applications, by its code."""
    return (
        Service.objects.filter(code=code, is_active=True, current_version__isnull=False)
        .select_related("department", "current_version")
        .first()
    )


def get_version_definition(*, version: ServiceVersion) -> VersionDefinition:
    """A version's form (group it with `definitions.group_into_sections`), documents and
    workflow, typed for rendering."""
    return parse_version(form=version.form, documents=version.documents, workflow=version.workflow)


def get_fee_schedule_in_force(*, code: str, on_date: date) -> FeeSchedule | None:
    """The schedule of `code` in force on `on_date` (the latest to start, if they overlap)."""
    return (
        FeeSchedule.objects.filter(code=code, effective_from__lte=on_date)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=on_date))
        .prefetch_related("rules")
        .order_by("-effective_from")
        .first()
    )


def list_complaint_categories() -> QuerySet[ComplaintCategory]:
    """The categories a citizen chooses from, each owned by a department."""
    return ComplaintCategory.objects.filter(is_active=True).select_related("department")
