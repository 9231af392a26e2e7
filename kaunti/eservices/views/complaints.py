"""Complaints and suggestions: a citizen files one, follows it, rates the answer or reopens
it; staff of the owning department see an inbox and take it, resolve it or assign it.

Another person's complaint answers 404 to a citizen; staff of another department get 403.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kaunti.accounts.decorators import staff_required
from kaunti.accounts.permissions import has_permission
from kaunti.core.forms import apply_service_errors
from kaunti.core.selectors import list_wards
from kaunti.core.views_support import signed_in_user
from kaunti.eservices.definitions.language import current_language
from kaunti.eservices.forms import (
    AssignComplaintForm,
    ComplaintForm,
    ComplaintInboxFilterForm,
    RateForm,
    ReasonForm,
)
from kaunti.eservices.models import UNRESOLVED_STATUSES, Complaint
from kaunti.eservices.selectors import catalogue
from kaunti.eservices.selectors import complaints as selectors
from kaunti.eservices.services import complaints as services

VIEW = "eservices.view_complaints"
ASSIGN = "eservices.reassign"


def _own_complaint(request: HttpRequest, reference: str) -> Complaint:
    complaint = selectors.get_citizen_complaint(user=request.user, reference=reference)
    if complaint is None:
        raise Http404("no such complaint")
    return complaint


def _staff_complaint(request: HttpRequest, reference: str) -> Complaint:
    complaint = selectors.access_complaint_for_staff(user=request.user, reference=reference)
    if complaint is None:
        raise Http404("no such complaint")
    return complaint


def _flash(request: HttpRequest, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        found = [message for group in error.message_dict.values() for message in group]
    else:
        found = list(error.messages)
    for message in found:
        messages.error(request, message)


@login_required
@require_GET
def my_complaints(request: HttpRequest) -> HttpResponse:
    complaints = list(selectors.list_citizen_complaints(user=request.user)[:200])
    return render(
        request,
        "eservices/my_complaints.html",
        {"complaints": complaints, "language": current_language()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def file_complaint(request: HttpRequest) -> HttpResponse:
    form = ComplaintForm(
        request.POST or None,
        request.FILES or None,
        categories=catalogue.list_complaint_categories(),
        wards=list_wards(),
    )
    if request.method == "POST" and form.is_valid():
        try:
            complaint = services.file_complaint(
                complainant=signed_in_user(request),
                category=form.cleaned_data["category"],
                ward=form.cleaned_data["ward"],
                description=form.cleaned_data["description"],
                kind=form.cleaned_data["kind"],
                photo=form.cleaned_data["photo"],
                location_text=form.cleaned_data["location_text"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Thank you. Your reference is %(reference)s.")
                % {"reference": complaint.reference},
            )
            return redirect("eservices:complaint_detail", reference=complaint.reference)
    return render(request, "eservices/complaint_file.html", {"form": form})


@never_cache
@login_required
@require_GET
def complaint_detail(request: HttpRequest, reference: str) -> HttpResponse:
    complaint = _own_complaint(request, reference)
    return render(
        request,
        "eservices/complaint_detail.html",
        {
            "complaint": complaint,
            "category_name": complaint.category.name(current_language()),
            "timeline": list(
                selectors.list_complaint_timeline(complaint=complaint, for_complainant=True)
            ),
            "rate_form": RateForm(),
            "reopen_form": ReasonForm(),
            "is_staff_view": False,
        },
    )


@login_required
@require_POST
def rate_complaint(request: HttpRequest, reference: str) -> HttpResponse:
    complaint = _own_complaint(request, reference)
    form = RateForm(request.POST)
    if form.is_valid():
        try:
            services.rate_complaint_resolution(
                complaint=complaint,
                actor=signed_in_user(request),
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as exc:
            _flash(request, exc)
        else:
            messages.success(request, _("Thank you for rating the answer."))
    else:
        messages.error(request, _("Choose a rating from 1 to 5."))
    return redirect("eservices:complaint_detail", reference=complaint.reference)


@login_required
@require_POST
def reopen_complaint(request: HttpRequest, reference: str) -> HttpResponse:
    complaint = _own_complaint(request, reference)
    form = ReasonForm(request.POST)
    try:
        services.reopen_complaint(
            complaint=complaint,
            actor=signed_in_user(request),
            reason=form.data.get("reason", "")[:2000],
        )
    except ValidationError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("The complaint is open again."))
    return redirect("eservices:complaint_detail", reference=complaint.reference)


@never_cache
@login_required
@require_GET
def complaint_photo(request: HttpRequest, reference: str) -> HttpResponseBase:
    stored = selectors.open_complaint_photo(user=request.user, reference=reference)
    if stored is None:
        raise Http404("no such photo")
    response = FileResponse(
        stored.open(),
        as_attachment=True,
        filename=stored.display_name,
        content_type=stored.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@never_cache
@staff_required(VIEW)
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    form = ComplaintInboxFilterForm(
        request.GET or None,
        wards=list(list_wards()),
        categories=list(catalogue.list_complaint_categories()),
    )
    filters = form.cleaned_data if form.is_valid() else {}
    ward, category = filters.get("ward"), filters.get("category")
    overdue_only = bool(filters.get("overdue"))
    complaints = list(
        selectors.list_complaint_inbox(
            user=request.user,
            status=filters.get("status", ""),
            ward_code=ward.code if ward else "",
            category_code=category.code if category else "",
            overdue_only=overdue_only,
        )[:200]
    )
    language = current_language()
    return render(
        request,
        "eservices/staff_inbox.html",
        {
            "form": form,
            "rows": [
                (c, c.category.name(language), selectors.is_complaint_overdue(c))
                for c in complaints
            ],
            "overdue_only": overdue_only,
            "language": language,
        },
    )


@never_cache
@staff_required(VIEW)
@require_GET
def staff_complaint(request: HttpRequest, reference: str) -> HttpResponse:
    complaint = _staff_complaint(request, reference)
    may_assign = (
        has_permission(request.user, ASSIGN, complaint.department)
        and complaint.status in UNRESOLVED_STATUSES
    )
    return render(
        request,
        "eservices/complaint_detail.html",
        {
            "complaint": complaint,
            "category_name": complaint.category.name(current_language()),
            "timeline": list(
                selectors.list_complaint_timeline(complaint=complaint, for_complainant=False)
            ),
            "resolve_form": ReasonForm(),
            "assign_form": AssignComplaintForm(
                department=complaint.department,
                initial={"assignee": complaint.assigned_to_id},
            )
            if may_assign
            else None,
            "is_overdue": selectors.is_complaint_overdue(complaint),
            "is_staff_view": True,
        },
    )


@staff_required(VIEW)
@require_POST
def staff_complaint_action(request: HttpRequest, reference: str, action: str) -> HttpResponse:
    complaint = _staff_complaint(request, reference)
    try:
        if action == "assign":
            form = AssignComplaintForm(request.POST, department=complaint.department)
            if not form.is_valid():
                raise ValidationError(_("Choose someone from the list."))
            services.assign_complaint(
                complaint=complaint,
                actor=signed_in_user(request),
                assignee=form.cleaned_data["assignee"],
            )
        elif action == "start":
            services.start_handling_complaint(complaint=complaint, actor=signed_in_user(request))
        elif action == "resolve":
            services.resolve_complaint(
                complaint=complaint,
                actor=signed_in_user(request),
                resolution=request.POST.get("reason", "")[:4000],
            )
        else:
            raise Http404("no such action")
    except ValidationError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("Done."))
    return redirect("eservices:staff_complaint", reference=complaint.reference)


urlpatterns = [
    path("account/complaints/", my_complaints, name="my_complaints"),
    path("account/complaints/new/", file_complaint, name="file_complaint"),
    path("account/complaints/<str:reference>/", complaint_detail, name="complaint_detail"),
    path("account/complaints/<str:reference>/rate/", rate_complaint, name="rate_complaint"),
    path("account/complaints/<str:reference>/reopen/", reopen_complaint, name="reopen_complaint"),
    path("account/complaints/<str:reference>/photo/", complaint_photo, name="complaint_photo"),
    path("staff/complaints/", inbox, name="staff_inbox"),
    path("staff/complaints/<str:reference>/", staff_complaint, name="staff_complaint"),
    path(
        "staff/complaints/<str:reference>/<slug:action>/",
        staff_complaint_action,
        name="staff_complaint_action",
    ),
]
