"""Staff pages of valuation rolls: the list (and a new draft), a roll with its entries,
importing a roll file with its reject report, objections and their decisions, and approval
(a Lands supervisor's: `land.approve_roll`)."""

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from kaunti.core.forms import apply_service_errors
from kaunti.core.views_support import signed_in_user
from kaunti.land.forms import (
    ConfirmForm,
    ObjectionDecisionForm,
    ObjectionForm,
    RollCreateForm,
    RollImportForm,
)
from kaunti.land.models import Objection, ObjectionStatus, RollStatus, ValuationRoll
from kaunti.land.permissions import APPROVE_ROLL, MANAGE_ROLL, VIEW_PARCELS, land_permissions
from kaunti.land.selectors.parcels import url_number
from kaunti.land.selectors.rolls import (
    get_objection,
    get_roll,
    get_roll_entry,
    get_roll_import,
    list_roll_entries,
    list_roll_imports,
    list_roll_objections,
    list_rolls,
)
from kaunti.land.services import roll as roll_services
from kaunti.land.views import land_staff_required, page_filters

PAGE_SIZE = 100


def _roll(public_id: UUID) -> ValuationRoll:
    roll = get_roll(public_id=public_id)
    if roll is None:
        raise Http404("no such roll")
    return roll


@never_cache
@land_staff_required(VIEW_PARCELS)
@require_http_methods(["GET", "POST"])
def roll_list(request: HttpRequest) -> HttpResponse:
    may = land_permissions(request.user)
    form = RollCreateForm(request.POST or None)
    if request.method == "POST":
        if not may["manage_roll"]:
            raise PermissionDenied(MANAGE_ROLL)
        if form.is_valid():
            try:
                roll = roll_services.create_roll(
                    name=form.cleaned_data["name"],
                    valuation_date=form.cleaned_data["valuation_date"],
                    actor=signed_in_user(request),
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(
                    request, _("Draft roll %(name)s is created.") % {"name": roll.name}
                )
                return redirect("land:roll_detail", public_id=roll.public_id)
    return render(
        request,
        "land/roll_list.html",
        {"rolls": list(list_rolls()[:200]), "form": form, "may": may},
    )


@never_cache
@land_staff_required(VIEW_PARCELS)
@require_GET
def roll_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    roll = _roll(public_id)
    query = str(request.GET.get("q", ""))[:120]
    entries = list_roll_entries(roll=roll, query=query)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(entry, url_number(entry.parcel)) for entry in page.object_list]
    return render(
        request,
        "land/roll_detail.html",
        {
            "roll": roll,
            "is_draft": roll.status == RollStatus.DRAFT,
            "page": page,
            "rows": rows,
            "query": query,
            "filters": page_filters(request),
            "imports": list_roll_imports(roll=roll)[:20],
            "objections": list_roll_objections(roll=roll),
            "may": land_permissions(request.user),
        },
    )


@never_cache
@land_staff_required(MANAGE_ROLL)
@require_http_methods(["GET", "POST"])
def roll_import(request: HttpRequest, public_id: UUID) -> HttpResponse:
    roll = _roll(public_id)
    form = RollImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            report = roll_services.import_roll(
                roll=roll,
                file_name=upload.name or "roll.csv",
                content=upload.read(),
                actor=signed_in_user(request),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return redirect("land:roll_import_report", public_id=report.public_id)
    return render(request, "land/roll_import.html", {"roll": roll, "form": form})


@never_cache
@land_staff_required(VIEW_PARCELS)
@require_GET
def roll_import_report(request: HttpRequest, public_id: UUID) -> HttpResponse:
    report = get_roll_import(public_id=public_id)
    if report is None:
        raise Http404("no such import")
    return render(request, "land/roll_import_report.html", {"report": report, "roll": report.roll})


@never_cache
@land_staff_required(MANAGE_ROLL)
@require_http_methods(["GET", "POST"])
def lodge_objection(request: HttpRequest, public_id: UUID) -> HttpResponse:
    roll = _roll(public_id)
    form = ObjectionForm(
        request.POST or None, initial={"parcel_number": request.GET.get("parcel", "")}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        entry = get_roll_entry(roll=roll, number=data["parcel_number"])
        if entry is None:
            form.add_error("parcel_number", _("That parcel is not on this roll."))
        else:
            try:
                roll_services.lodge_objection(
                    entry=entry,
                    objector_name=data["objector_name"],
                    grounds=data["grounds"],
                    proposed_value=data["proposed_value"],
                    actor=signed_in_user(request),
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("The objection to %(number)s is recorded.") % {"number": entry.parcel.number},
                )
                return redirect("land:roll_detail", public_id=roll.public_id)
    return render(request, "land/objection_form.html", {"roll": roll, "form": form})


@never_cache
@land_staff_required(MANAGE_ROLL)
@require_http_methods(["GET", "POST"])
def decide_objection(request: HttpRequest, public_id: UUID) -> HttpResponse:
    objection: Objection | None = get_objection(public_id=public_id)
    if objection is None:
        raise Http404("no such objection")
    form = ObjectionDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            roll_services.decide_objection(
                objection=objection,
                upheld=data["decision"] == ObjectionStatus.UPHELD,
                new_value=data["decided_value"],
                reason=data["reason"],
                actor=signed_in_user(request),
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict") and "new_value" in exc.error_dict:
                exc = ValidationError({"decided_value": exc.error_dict["new_value"]})
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The decision is recorded."))
            return redirect("land:roll_detail", public_id=objection.entry.roll.public_id)
    return render(
        request,
        "land/objection_decide.html",
        {
            "objection": objection,
            "roll": objection.entry.roll,
            "url_number": url_number(objection.entry.parcel),
            "form": form,
        },
    )


@never_cache
@land_staff_required(APPROVE_ROLL)
@require_http_methods(["GET", "POST"])
def approve_roll(request: HttpRequest, public_id: UUID) -> HttpResponse:
    roll = _roll(public_id)
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            roll_services.approve_roll(roll=roll, actor=signed_in_user(request))
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(name)s is approved and in force: billing now reads it.") % {"name": roll.name},
            )
            return redirect("land:roll_detail", public_id=roll.public_id)
    return render(request, "land/roll_approve.html", {"roll": roll, "form": form})


urlpatterns = [
    path("staff/land/rolls/", roll_list, name="roll_list"),
    path("staff/land/rolls/<uuid:public_id>/", roll_detail, name="roll_detail"),
    path("staff/land/rolls/<uuid:public_id>/import/", roll_import, name="roll_import"),
    path("staff/land/rolls/<uuid:public_id>/approve/", approve_roll, name="roll_approve"),
    path(
        "staff/land/rolls/<uuid:public_id>/objections/new/", lodge_objection, name="lodge_objection"
    ),
    path(
        "staff/land/roll-imports/<uuid:public_id>/", roll_import_report, name="roll_import_report"
    ),
    path("staff/land/objections/<uuid:public_id>/", decide_objection, name="decide_objection"),
]
