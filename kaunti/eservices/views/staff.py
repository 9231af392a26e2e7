"""Staff pages of applications: the work queue, an application with its answers, documents
and history, and the actions on each step (approve, reject, return, inspect, reassign).

`staff_required` lets in anyone who holds the action in some department; the selectors
then answer 403 for an application of a department the person may not view, and the
services check the right to act on the step's own department again.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from kaunti.accounts.decorators import staff_required
from kaunti.accounts.models import Role, User
from kaunti.accounts.permissions import has_permission
from kaunti.core.selectors import list_wards
from kaunti.core.views_support import error_messages, signed_in_user
from kaunti.eservices.definitions.language import current_language
from kaunti.eservices.definitions.workflow import StepKind
from kaunti.eservices.forms import InspectionForm, NoteForm, QueueFilterForm, ReassignForm
from kaunti.eservices.models import Application, ApplicationStep, StepStatus
from kaunti.eservices.selectors import applications as selectors
from kaunti.eservices.selectors import catalogue
from kaunti.eservices.selectors.answers import label_documents, list_answers_for_display
from kaunti.eservices.services import workflow

VIEW = "eservices.view_applications"
REASSIGN = "eservices.reassign"


def _application(request: HttpRequest, reference: str) -> Application:
    application = selectors.access_application_for_staff(user=request.user, reference=reference)
    if application is None:
        raise Http404("no such application")
    return application


def _step(request: HttpRequest, reference: str, code: str) -> ApplicationStep:
    step = selectors.get_step_for_staff(
        user=request.user, application=_application(request, reference), code=code
    )
    if step is None:
        raise Http404("no such step")
    return step


@never_cache
@staff_required(VIEW)
@require_GET
def work_queue(request: HttpRequest) -> HttpResponse:
    language = current_language()
    form = QueueFilterForm(
        request.GET or None,
        services=[
            (service.code, service.name(language))
            for service in catalogue.list_services().order_by("order", "name_en")
        ],
        wards=list(list_wards().order_by("name")),
    )
    filters = form.cleaned_data if form.is_valid() else {}
    service_code = filters.get("service", "")
    ward_code = filters.get("ward", "")
    overdue = bool(filters.get("overdue"))
    steps = list(
        selectors.list_work_queue(
            user=request.user, service_code=service_code, ward_code=ward_code, overdue_only=overdue
        )[:200]
    )
    applications = list(
        selectors.list_department_applications(
            user=request.user,
            service_code=service_code,
            ward_code=ward_code,
            status=filters.get("status", ""),
            overdue_only=overdue,
        )[:200]
    )
    unassignable = [
        (
            step,
            step.application.service.name(language),
            step.name(language),
            Role(step.role).label if step.role in Role.values else step.role,
        )
        for step in selectors.list_unassignable_steps(user=request.user)[:200]
    ]
    return render(
        request,
        "eservices/staff_queue.html",
        {
            "form": form,
            "unassignable": unassignable,
            "steps": [
                (step, step.name(language), selectors.is_step_overdue(step)) for step in steps
            ],
            "applications": applications,
            "language": language,
        },
    )


@never_cache
@staff_required(VIEW)
@require_GET
def application_detail(request: HttpRequest, reference: str) -> HttpResponse:
    application = _application(request, reference)
    language = current_language()
    answers = [
        (label, value)
        for _name, label, value in list_answers_for_display(
            application=application, language=language
        )
    ]
    steps = []
    all_steps = list(application.steps.select_related("department", "assigned_to", "completed_by"))
    nobody = selectors.unassignable_step_ids(steps=all_steps)
    for step in all_steps:
        may_act = selectors.may_act_on_step(user=request.user, step=step)
        may_reassign = has_permission(request.user, REASSIGN, step.department)
        steps.append(
            {
                "step": step,
                "name": step.name(language),
                "overdue": selectors.is_step_overdue(step),
                "nobody_may_act": step.pk in nobody
                and step.status in (StepStatus.WAITING, StepStatus.OPEN),
                "may_act": may_act,
                "is_inspection": step.kind == StepKind.INSPECTION,
                "may_reassign": may_reassign
                and step.status in (StepStatus.WAITING, StepStatus.OPEN),
                "reassign_form": ReassignForm(step=step) if may_reassign else None,
            }
        )
    fees = selectors.get_billed_fees(application=application)
    return render(
        request,
        "eservices/staff_application.html",
        {
            "application": application,
            "service_name": application.service.name(language),
            "answers": answers,
            "steps": steps,
            "documents": label_documents(
                list(
                    selectors.list_application_documents(
                        application=application, include_superseded=True
                    )
                ),
                application=application,
                language=language,
            ),
            "timeline": list(
                selectors.list_application_timeline(application=application, for_applicant=False)
            ),
            "fee_lines": [(line.description(language), line.amount) for line in fees.lines],
            "fees": fees,
            "note_form": NoteForm(),
            "inspection_form": InspectionForm(),
        },
    )


FORMS: dict[str, type[forms.Form]] = {
    "approve": NoteForm,
    "reject": NoteForm,
    "return": NoteForm,
    "inspect": InspectionForm,
    "reassign": ReassignForm,
}


def _act(action: str, step: ApplicationStep, actor: User, data: dict[str, Any]) -> None:
    """Call the one service an action stands for (each checks the right to act)."""
    if action == "approve":
        workflow.approve_step(step=step, actor=actor, note=data["note"])
    elif action == "reject":
        workflow.reject_application(step=step, actor=actor, reason=data["note"])
    elif action == "return":
        workflow.return_for_changes(step=step, actor=actor, note=data["note"])
    elif action == "inspect":
        photo = data.get("photos")
        workflow.record_inspection_result(
            step=step,
            actor=actor,
            passed=data["passed"],
            notes=data["note"],
            photos=[photo] if photo else [],
        )
    else:
        workflow.reassign_step(
            step=step, actor=actor, assignee=data["assignee"], reason=data["reason"]
        )


@staff_required(VIEW)
@require_POST
def step_action(request: HttpRequest, reference: str, code: str, action: str) -> HttpResponse:
    """One action on one step; a refusal comes back as a message on the application page."""
    if action not in FORMS:
        raise Http404("no such action")
    step = _step(request, reference, code)
    form_class = FORMS[action]
    form = (
        ReassignForm(request.POST, step=step)
        if form_class is ReassignForm
        else form_class(request.POST, request.FILES)
    )
    if not form.is_valid():
        for field_errors in form.errors.values():
            for message in field_errors:
                messages.error(request, str(message))
    else:
        try:
            _act(action, step, signed_in_user(request), form.cleaned_data)
        except ValidationError as exc:
            for message in error_messages(exc):
                messages.error(request, message)
        else:
            messages.success(request, _("Done."))
    return redirect("eservices:staff_application", reference=step.application.reference)


@never_cache
@staff_required(REASSIGN)
@require_GET
def overdue_steps(request: HttpRequest) -> HttpResponse:
    """A supervisor's view: every step past its SLA in the departments they supervise."""
    now = timezone.now()
    language = current_language()
    rows = [
        {
            "step": step,
            "service": step.application.service.name(language),
            "name": step.name(language),
            "late_by": timesince(step.due_at, now) if step.due_at else "",
        }
        for step in selectors.list_overdue_steps(user=request.user, now=now)[:500]
    ]
    return render(request, "eservices/staff_overdue.html", {"rows": rows})


urlpatterns = [
    path("staff/applications/", work_queue, name="staff_queue"),
    path("staff/overdue-steps/", overdue_steps, name="staff_overdue"),
    path("staff/applications/<str:reference>/", application_detail, name="staff_application"),
    path(
        "staff/applications/<str:reference>/steps/<str:code>/<slug:action>/",
        step_action,
        name="staff_step_action",
    ),
]
