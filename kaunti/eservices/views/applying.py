"""Applying, in short steps: start an application, answer each step, upload the
documents, check the answers and submit (and resubmit after "returned for changes").

Another person's application answers 404. Every write goes through one service; a
`ValidationError` from a service is put back on the page with what was typed kept.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from kaunti.core.selectors import list_wards
from kaunti.core.views_support import error_messages, signed_in_user
from kaunti.eservices.definitions.form import (
    FieldSpec,
    FieldType,
    group_into_sections,
    parse_sections,
)
from kaunti.eservices.definitions.language import current_language
from kaunti.eservices.definitions.version import VersionDefinition
from kaunti.eservices.fees.breakdown import FeeBreakdown
from kaunti.eservices.forms import NoteForm, SectionForm, UploadForm
from kaunti.eservices.models import Application, ApplicationStatus, ServiceVersion
from kaunti.eservices.selectors import applications as application_selectors
from kaunti.eservices.selectors import catalogue
from kaunti.eservices.selectors.answers import list_answers_for_display
from kaunti.eservices.services import applications as application_services


def own_application(request: HttpRequest, reference: str) -> Application:
    """The signed-in citizen's application `reference` (anyone else's is a 404)."""
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
    application = own_application(request, reference)
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
    application = own_application(request, reference)
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
    application = own_application(request, reference)
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


urlpatterns = [
    path("services/<slug:code>/apply/", start_application, name="start_application"),
    path(
        "account/applications/<str:reference>/answers/<int:number>/",
        edit_section,
        name="edit_section",
    ),
    path("account/applications/<str:reference>/documents/", documents, name="documents"),
    path("account/applications/<str:reference>/check/", check_and_submit, name="check"),
]
