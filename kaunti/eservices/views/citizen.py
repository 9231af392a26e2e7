"""Citizen pages: the catalogue, applying in short steps, documents, fees, submission,
following an application, answering "returned for changes" and the issued document.

Another person's application answers 404. Every write goes through one service; a
`ValidationError` from a service is put back on the page with what was typed kept.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kaunti.core.selectors import list_wards
from kaunti.core.views_support import error_messages, pdf_response, signed_in_user
from kaunti.eservices.definitions import (
    FieldSpec,
    FieldType,
    VersionDefinition,
    current_language,
    group_into_sections,
    parse_sections,
)
from kaunti.eservices.fees import FeeBreakdown
from kaunti.eservices.forms import NoteForm, SectionForm, UploadForm
from kaunti.eservices.models import Application, ApplicationStatus, EventKind, ServiceVersion
from kaunti.eservices.selectors import applications as application_selectors
from kaunti.eservices.selectors import catalogue
from kaunti.eservices.selectors.answers import label_documents, list_answers_for_display
from kaunti.eservices.selectors.progress import get_application_progress
from kaunti.eservices.services import applications as application_services
from kaunti.payments.models import BillStatus


def _own_application(request: HttpRequest, reference: str) -> Application:
    application = application_selectors.get_citizen_application(
        user=request.user, reference=reference
    )
    if application is None:
        raise Http404("no such application")
    return application


def _answer_sections(definition: VersionDefinition) -> list[tuple[str, list[FieldSpec]]]:
    """The form's short steps (section code and questions), leaving out those holding only
    uploads (the documents page takes those)."""
    return [
        (code, specs)
        for code, specs in group_into_sections(definition.fields)
        if any(spec.type != FieldType.FILE for spec in specs)
    ]


def _section_title(version: ServiceVersion, code: str, language: str) -> str:
    """The heading the catalogue gives a section, in `language` ("" if it gives none)."""
    for section in parse_sections(version.sections):
        if section.code == code:
            return section.title(language)
    return ""


def _linked_problems(error: ValidationError, application: Application) -> list[tuple[str, str]]:
    """A refusal's messages, each with the address of what to fix (GOV.UK error summary):
    an answer on its step's page, at its field; a document on the documents page."""
    definition = catalogue.get_version_definition(version=application.version)
    section_of = {
        spec.name: number
        for number, (_code, specs) in enumerate(_answer_sections(definition), start=1)
        for spec in specs
    }
    kinds = {spec.kind for spec in definition.documents} | {
        spec.document for spec in definition.fields if spec.type == FieldType.FILE
    }
    if not hasattr(error, "error_dict"):
        return [(message, "") for message in error.messages]
    problems = []
    for key, found in error.message_dict.items():
        if key in section_of:
            href = (
                reverse("eservices:edit_section", args=[application.reference, section_of[key]])
                + f"#id_{key}"
            )
        elif key in kinds:
            href = reverse("eservices:documents", args=[application.reference]) + f"#file-{key}"
        else:
            href = ""
        problems += [(message, href) for message in found]
    return problems


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


@login_required
@require_POST
def start_application(request: HttpRequest, code: str) -> HttpResponse:
    service = catalogue.get_service(code=code)
    if service is None:
        raise Http404("no such service")
    renewal_of = (
        application_selectors.get_renewable_application(user=request.user, service=service)
        if request.POST.get("renew") == "yes"
        else None
    )
    try:
        application = application_services.create_draft(
            applicant=signed_in_user(request),
            service=service,
            renewal_of=renewal_of,
        )
    except ValidationError as exc:
        for message in error_messages(exc):
            messages.error(request, message)
        return redirect("eservices:service_detail", code=code)
    return redirect("eservices:edit_section", reference=application.reference, number=1)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def edit_section(request: HttpRequest, reference: str, number: int) -> HttpResponse:
    application = _own_application(request, reference)
    if not application.is_editable:
        return redirect("eservices:application_detail", reference=application.reference)
    definition = catalogue.get_version_definition(version=application.version)
    sections = _answer_sections(definition)
    if not 1 <= number <= len(sections):
        raise Http404("no such section")
    section_code, specs = sections[number - 1]
    language = current_language()
    form = SectionForm(
        request.POST if request.method == "POST" else None,
        specs=specs,
        language=language,
        wards=list(list_wards()),
        initial=dict(application.answers),
    )
    if request.method == "POST" and form.is_valid():
        update = application_services.update_draft(
            application=application,
            actor=signed_in_user(request),
            answers=form.cleaned_data,
            # Going on checks this step's required answers now, not at the very end;
            # saving to come back later keeps a half-done step.
            require_answers="save_and_leave" not in request.POST,
        )
        for field, field_errors in update.errors.items():
            for message in field_errors:
                form.add_error(field if field in form.fields else None, message)
        if not update.errors:
            if "save_and_leave" in request.POST:
                messages.success(request, _("Your answers are saved. Come back any time."))
                return redirect("eservices:application_detail", reference=application.reference)
            if number < len(sections):
                return redirect(
                    "eservices:edit_section", reference=application.reference, number=number + 1
                )
            return redirect("eservices:documents", reference=application.reference)
    return render(
        request,
        "eservices/apply_section.html",
        {
            "application": application,
            "form": form,
            "service_name": application.service.name(language),
            "section_title": _section_title(application.version, section_code, language),
            "number": number,
            "count": len(sections),
            "language": language,
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def documents(request: HttpRequest, reference: str) -> HttpResponse:
    application = _own_application(request, reference)
    if not application.is_editable:
        return redirect("eservices:application_detail", reference=application.reference)
    form = UploadForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            application_services.attach_document(
                application=application,
                actor=signed_in_user(request),
                kind=form.cleaned_data["kind"],
                upload=form.cleaned_data["file"],
            )
        except ValidationError as exc:
            for message in error_messages(exc):
                form.add_error("file", message)
        else:
            messages.success(request, _("The document is uploaded."))
            return redirect("eservices:documents", reference=application.reference)
    definition = catalogue.get_version_definition(version=application.version)
    language = current_language()
    uploaded = {
        document.kind: document
        for document in application_selectors.list_application_documents(application=application)
        if document.step_id is None
    }
    # A renewal may not need last year's documents again (the catalogue says which).
    needed = application_selectors.required_documents(application)
    wanted = [
        (spec.kind, spec.label(language), spec.kind in needed) for spec in definition.documents
    ]
    wanted += [
        (spec.document, spec.label(language), spec.document in needed)
        for spec in definition.fields
        if spec.type == FieldType.FILE and spec.document not in {kind for kind, _l, _r in wanted}
    ]
    rows = [(kind, label, required, uploaded.get(kind)) for kind, label, required in wanted]
    return render(
        request,
        "eservices/apply_documents.html",
        {
            "application": application,
            "rows": rows,
            "form": form,
            "failed_kind": form.data.get("kind", "") if form.is_bound else "",
            "section_count": len(_answer_sections(definition)),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def check_and_submit(request: HttpRequest, reference: str) -> HttpResponse:
    application = _own_application(request, reference)
    if not application.is_editable:
        return redirect("eservices:application_detail", reference=application.reference)
    problems: list[tuple[str, str]] = []
    form = NoteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            if application.status == ApplicationStatus.RETURNED:
                application_services.resubmit_application(
                    application=application,
                    actor=signed_in_user(request),
                    note=form.cleaned_data["note"],
                )
            else:
                application_services.submit_application(
                    application=application,
                    actor=signed_in_user(request),
                )
        except ValidationError as exc:
            problems = _linked_problems(exc, application)
        else:
            messages.success(request, _("Your application is sent."))
            return redirect("eservices:application_detail", reference=application.reference)
    language = current_language()
    definition = catalogue.get_version_definition(version=application.version)
    answers = [
        (label, value)
        for _name, label, value in list_answers_for_display(
            application=application, language=language
        )
    ]
    try:
        fees: FeeBreakdown | None = application_selectors.preview_fees(
            user=request.user, application=application
        )
    except ValidationError as exc:
        fees = None
        problems = problems or _linked_problems(exc, application)
    return render(
        request,
        "eservices/apply_check.html",
        {
            "application": application,
            "answers": answers,
            "fees": fees,
            "fee_lines": [(line.description(language), line.amount) for line in fees.lines]
            if fees
            else [],
            "problems": problems,
            "form": form,
            "section_count": len(_answer_sections(definition)),
        },
    )


@never_cache
@login_required
@require_GET
def application_detail(request: HttpRequest, reference: str) -> HttpResponse:
    application = _own_application(request, reference)
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
    path("services/<slug:code>/apply/", start_application, name="start_application"),
    path("account/applications/", my_applications, name="my_applications"),
    path("account/applications/<str:reference>/", application_detail, name="application_detail"),
    path(
        "account/applications/<str:reference>/answers/<int:number>/",
        edit_section,
        name="edit_section",
    ),
    path("account/applications/<str:reference>/documents/", documents, name="documents"),
    path("account/applications/<str:reference>/check/", check_and_submit, name="check"),
    path(
        "account/applications/<str:reference>/document.pdf",
        issued_document_pdf,
        name="issued_document_pdf",
    ),
    path("account/documents/<uuid:public_id>/", download_document, name="download_document"),
]
