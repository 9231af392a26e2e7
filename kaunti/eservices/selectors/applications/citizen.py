"""A citizen's own applications, with their history and documents."""

from typing import Any

from django.db.models import QuerySet

from kaunti.eservices.models import Application, ApplicationDocument, ApplicationEvent
from kaunti.eservices.references import normalise_reference


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
