"""Citizen pages: the catalogue, following an application (its progress, fees and what
was returned for changes), the list of one's applications, and the issued document.
Applying itself, step by step, is in kaunti.eservices.views.applying.

Another person's application answers 404.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from kaunti.core.views_support import pdf_response
from kaunti.eservices.definitions.language import current_language
from kaunti.eservices.models import EventKind
from kaunti.eservices.selectors import applications as application_selectors
from kaunti.eservices.selectors import catalogue
from kaunti.eservices.selectors.answers import label_documents
from kaunti.eservices.selectors.progress import get_application_progress
from kaunti.eservices.views.applying import own_application
from kaunti.payments.models import BillStatus


@require_GET
def service_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    language = current_language()
    rows = [
        (service, service.name(language), service.description(language))
        for service in catalogue.list_services(query=query)
    ]
    return render(request, "eservices/service_list.html", {"rows": rows, "query": query})


@require_GET
def service_detail(request: HttpRequest, code: str) -> HttpResponse:
    service = catalogue.get_service(code=code)
    if service is None or service.current_version is None:
        raise Http404("no such service")
    definition = catalogue.get_version_definition(version=service.current_version)
    schedule = catalogue.get_fee_schedule_in_force(
        code=service.current_version.fee_schedule_code, on_date=timezone.localdate()
    )
    language = current_language()
    return render(
        request,
        "eservices/service_detail.html",
        {
            "service": service,
            "name": service.name(language),
            "description": service.description(language),
            "eligibility": service.eligibility(language),
            "documents": [(spec.label(language), spec.required) for spec in definition.documents],
            "schedule": schedule,
            "fee_rows": catalogue.describe_fee_schedule(
                schedule=schedule, language=language, on_date=timezone.localdate()
            )
            if schedule
            else [],
            "renewable": application_selectors.get_renewable_application(
                user=request.user, service=service
            ),
        },
    )


@never_cache
@login_required
@require_GET
def application_detail(request: HttpRequest, reference: str) -> HttpResponse:
    application = own_application(request, reference)
    language = current_language()
    timeline = list(
        application_selectors.list_application_timeline(application=application, for_applicant=True)
    )
    returned = [event.note for event in timeline if event.kind == EventKind.RETURNED]
    fees = application_selectors.get_billed_fees(application=application)
    return render(
        request,
        "eservices/application_detail.html",
        {
            "application": application,
            "service_name": application.service.name(language),
            "timeline": timeline,
            "progress": get_application_progress(application=application, language=language),
            "returned_note": returned[-1] if returned else "",
            "fee_lines": [(line.description(language), line.amount) for line in fees.lines],
            "fees": fees,
            "bill_is_open": application.bill is not None
            and application.bill.status not in (BillStatus.PAID, BillStatus.CANCELLED),
            "documents": label_documents(
                list(application_selectors.list_application_documents(application=application)),
                application=application,
                language=language,
            ),
        },
    )


@login_required
@require_GET
def my_applications(request: HttpRequest) -> HttpResponse:
    applications = list(application_selectors.list_citizen_applications(user=request.user)[:200])
    language = current_language()
    rows = [(application, application.service.name(language)) for application in applications]
    return render(request, "eservices/my_applications.html", {"rows": rows})


@never_cache
@login_required
@require_GET
def issued_document_pdf(request: HttpRequest, reference: str) -> HttpResponse:
    document = application_selectors.render_issued_document(
        user=request.user, reference=reference, language=current_language()
    )
    if document is None:
        raise Http404("nothing issued")
    return pdf_response(document.content, filename=document.filename)


@never_cache
@login_required
@require_GET
def download_document(request: HttpRequest, public_id: str) -> HttpResponseBase:
    """An uploaded document, for its applicant or staff who may view the application."""
    try:
        stored = application_selectors.open_application_document(
            user=request.user, public_id=public_id
        )
    except (ValidationError, PermissionDenied) as exc:
        raise Http404("no such document") from exc
    if stored is None:
        raise Http404("no such document")
    response = FileResponse(
        stored.open(),
        as_attachment=True,
        filename=stored.display_name,
        content_type=stored.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


urlpatterns = [
    path("services/", service_list, name="service_list"),
    path("services/<slug:code>/", service_detail, name="service_detail"),
    path("account/applications/", my_applications, name="my_applications"),
    path("account/applications/<str:reference>/", application_detail, name="application_detail"),
    path(
        "account/applications/<str:reference>/document.pdf",
        issued_document_pdf,
        name="issued_document_pdf",
    ),
    path("account/documents/<uuid:public_id>/", download_document, name="download_document"),
]
