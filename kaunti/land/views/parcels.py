"""Staff pages of parcels: the land home, search, a parcel with its owners, transfers, roll
entries and statement, and recording a registered transfer."""

import json
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from kaunti.core.forms import apply_service_errors
from kaunti.core.views_support import signed_in_user
from kaunti.land.forms import LegacyImportForm, ParcelSearchForm, TransferForm
from kaunti.land.models import Parcel
from kaunti.land.permissions import EDIT_PARCELS, VIEW_PARCELS, land_permissions
from kaunti.land.selectors.balances import parcel_statement
from kaunti.land.selectors.billing import get_legacy_import
from kaunti.land.selectors.maps import count_parcels_by_status
from kaunti.land.selectors.parcels import (
    RatesStatus,
    current_ownerships,
    get_parcel_document,
    get_parcel_with_rates,
    list_current_owners,
    list_ownership_history,
    list_parcel_roll_entries,
    list_transfers,
    may_open_rates_bills,
    owner_names,
    search_parcels,
    status_of,
    url_number,
)
from kaunti.land.services import legacy
from kaunti.land.services import owners as owner_services
from kaunti.land.services.parcels import area_differs
from kaunti.land.views import land_staff_required, page_filters

PAGE_SIZE = 50


def _parcel(number: str) -> Parcel:
    parcel = get_parcel_with_rates(number=number)
    if parcel is None:
        raise Http404("no such parcel")
    return parcel


@never_cache
@land_staff_required(VIEW_PARCELS)
@require_GET
def land_home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "land/home.html",
        {
            "counts": [
                (status, label, count)
                for (status, label), count in zip(
                    RatesStatus.choices(),
                    count_parcels_by_status().values(),
                    strict=True,
                )
            ],
            "may": land_permissions(request.user),
        },
    )


@never_cache
@land_staff_required(VIEW_PARCELS)
@require_GET
def parcel_search(request: HttpRequest) -> HttpResponse:
    form = ParcelSearchForm(request.GET)
    query = ward = status = ""
    if form.is_valid():
        query = form.cleaned_data["q"]
        ward = form.cleaned_data["ward"]
        status = form.cleaned_data["status"]
    parcels = search_parcels(query=query, ward_code=ward, status=status)
    page = Paginator(parcels, PAGE_SIZE).get_page(request.GET.get("page"))
    owners = list_current_owners(parcels=list(page.object_list))
    rows = [
        {
            "parcel": parcel,
            "url_number": url_number(parcel),
            "owners": owner_names(owners.get(parcel.pk, [])),
            "status": status_of(parcel),
            "status_label": RatesStatus.label(status_of(parcel)),
        }
        for parcel in page.object_list
    ]
    return render(
        request,
        "land/parcel_search.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "filters": page_filters(request),
            "searched": bool(query or ward or status),
        },
    )


@never_cache
@land_staff_required(VIEW_PARCELS)
@require_GET
def parcel_detail(request: HttpRequest, number: str) -> HttpResponse:
    parcel = _parcel(number)
    status = status_of(parcel)
    statement = parcel_statement(parcel=parcel)
    return render(
        request,
        "land/parcel_detail.html",
        {
            "parcel": parcel,
            "url_number": url_number(parcel),
            "status": status,
            "status_label": RatesStatus.label(status),
            "area_differs": area_differs(
                recorded=parcel.area_hectares, computed=parcel.boundary_area_hectares
            ),
            "boundary_json": json.dumps(parcel.boundary) if parcel.boundary else "",
            "owners": current_ownerships(parcel=parcel),
            "history": list_ownership_history(parcel=parcel),
            "transfers": list_transfers(parcel=parcel),
            "roll_entries": list_parcel_roll_entries(parcel=parcel),
            "statement": statement,
            "documents": list(parcel.documents.select_related("transfer")),
            "may": land_permissions(request.user),
            "may_view_bills": may_open_rates_bills(user=request.user),
        },
    )


@never_cache
@land_staff_required(EDIT_PARCELS)
@require_http_methods(["GET", "POST"])
def record_transfer(request: HttpRequest, number: str) -> HttpResponse:
    parcel = _parcel(number)
    form = TransferForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        actor = signed_in_user(request)
        data = form.cleaned_data
        try:
            # One transaction: the owners, the transfer and its document all, or nothing.
            with transaction.atomic():
                shares = []
                for owner in data["owners"]:
                    try:
                        found = owner_services.find_or_create_owner(
                            kind=owner["kind"],
                            name=owner["name"],
                            national_id=owner["national_id"],
                            kra_pin=owner["kra_pin"],
                            actor=actor,
                        )
                    except ValidationError as exc:
                        if not hasattr(exc, "error_dict"):
                            raise
                        raise ValidationError(
                            {
                                f"owner{owner['row']}_{field}": messages_
                                for field, messages_ in exc.message_dict.items()
                            }
                        ) from exc
                    shares.append(
                        owner_services.ShareInput(
                            owner=found,
                            numerator=owner["numerator"],
                            denominator=owner["denominator"],
                        )
                    )
                transfer = owner_services.record_transfer(
                    parcel=parcel,
                    new_shares=shares,
                    instrument=data["instrument"],
                    registered_on=data["registered_on"],
                    note=data["note"],
                    actor=actor,
                )
                if data.get("document"):
                    owner_services.attach_document(
                        parcel=parcel,
                        title=data["document_title"] or data["instrument"],
                        upload=data["document"],
                        transfer=transfer,
                        actor=actor,
                    )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Transfer %(instrument)s is recorded.") % {"instrument": transfer.instrument},
            )
            return redirect("land:parcel_detail", number=url_number(parcel))
    return render(
        request,
        "land/transfer_form.html",
        {
            "parcel": parcel,
            "url_number": url_number(parcel),
            "form": form,
            "owners": current_ownerships(parcel=parcel),
        },
    )


urlpatterns = [
    path("staff/land/", land_home, name="home"),
    path("staff/land/parcels/", parcel_search, name="parcel_search"),
    path("staff/land/parcels/<str:number>/", parcel_detail, name="parcel_detail"),
    path("staff/land/parcels/<str:number>/transfer/", record_transfer, name="record_transfer"),
]


@never_cache
@land_staff_required(EDIT_PARCELS)
@require_http_methods(["GET", "POST"])
def legacy_import(request: HttpRequest) -> HttpResponse:
    """Parcels, owners and opening arrears from a legacy system's export, with a report."""
    form = LegacyImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            report = legacy.import_legacy_parcels(
                file_name=upload.name or "legacy.csv",
                content=upload.read(),
                actor=signed_in_user(request),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return redirect("land:legacy_import_report", public_id=report.public_id)
    return render(request, "land/legacy_import.html", {"form": form})


@never_cache
@land_staff_required(VIEW_PARCELS)
@require_GET
def legacy_import_report(request: HttpRequest, public_id: UUID) -> HttpResponse:
    report = get_legacy_import(public_id=public_id)
    if report is None:
        raise Http404("no such import")
    return render(request, "land/legacy_import_report.html", {"report": report})


urlpatterns += [
    path("staff/land/legacy-import/", legacy_import, name="legacy_import"),
    path(
        "staff/land/legacy-imports/<uuid:public_id>/",
        legacy_import_report,
        name="legacy_import_report",
    ),
]


@never_cache
@land_staff_required(VIEW_PARCELS)
@require_GET
def parcel_document(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """A document attached to a parcel or transfer; personal data, so never cached."""
    document = get_parcel_document(public_id=public_id)
    if document is None:
        raise Http404("no such document")
    name = document.file.name.rsplit("/", 1)[-1]
    response = FileResponse(document.file.open("rb"), filename=name)
    response["Cache-Control"] = "private, no-store"
    # A streaming response; `land_staff_required` is typed for plain ones, Django serves either.
    return response  # type: ignore[return-value]


urlpatterns += [
    path("staff/land/documents/<uuid:public_id>/", parcel_document, name="parcel_document"),
]
