"""Staff pages: bills (search, detail, raising a miscellaneous bill), the suspense review
queue, and receipt PDFs. Thin: forms check shape, selectors scope reads to the user,
services act. Every page needs the second factor and the role (`staff_required`); pages
about one bill check the role again in the bill's department.
"""

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

from kaunti.accounts.decorators import staff_required
from kaunti.accounts.permissions import has_permission
from kaunti.core.forms import apply_service_errors
from kaunti.core.money import format_amount
from kaunti.core.selectors import list_wards
from kaunti.core.views_support import pdf_response
from kaunti.payments.forms import AssignSuspenseForm, BillSearchForm, MiscellaneousBillForm
from kaunti.payments.selectors.bills import (
    access_bill_for_staff,
    list_bill_history,
    list_bill_payments,
    list_bills_for_staff,
    list_miscellaneous_streams,
)
from kaunti.payments.selectors.receipts import (
    access_receipt_for_staff,
    get_suspense_payment,
    list_suspense_payments,
)
from kaunti.payments.services.bills import Payer
from kaunti.payments.services.miscellaneous import raise_miscellaneous_bill
from kaunti.payments.services.receipts import render_receipt_pdf
from kaunti.payments.services.suspense import assign_suspense_payment

PAGE_SIZE = 50


# --- Bills ------------------------------------------------------------------------------


@staff_required("payments.view_bills")
@require_GET
def bill_list(request: HttpRequest) -> HttpResponse:
    form = BillSearchForm(request.GET)
    query = status = ""
    if form.is_valid():
        query, status = form.cleaned_data["q"], form.cleaned_data["status"]
    bills = list_bills_for_staff(user=request.user, query=query, status=status)
    page = Paginator(bills, PAGE_SIZE).get_page(request.GET.get("page"))
    filters = request.GET.copy()
    filters.pop("page", None)
    context = {"form": form, "page": page, "filters": filters.urlencode(), "query": query}
    return render(request, "payments/staff_bill_list.html", context)


@staff_required("payments.view_bills")
@require_GET
def bill_detail(request: HttpRequest, number: str) -> HttpResponse:
    bill = access_bill_for_staff(user=request.user, number=number)
    if bill is None:
        raise Http404("no such bill")
    context = {
        "bill": bill,
        "lines": bill.lines.select_related("stream"),
        "payments": list_bill_payments(bill=bill),
        "allocations": bill.allocations.select_related("payment").order_by("pk"),
        "history": list_bill_history(bill=bill),
        "may_cancel_receipts": has_permission(
            request.user, "payments.cancel_receipt", bill.department
        ),
    }
    return render(request, "payments/staff_bill_detail.html", context)


@staff_required("payments.raise_bill")
@require_http_methods(["GET", "POST"])
def raise_bill(request: HttpRequest) -> HttpResponse:
    streams = list_miscellaneous_streams(user=request.user)
    form = MiscellaneousBillForm(request.POST or None, streams=streams, wards=list_wards())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        payer = Payer(
            name=data["payer_name"], phone=data["payer_phone"], id_number=data["payer_id_number"]
        )
        try:
            bill = raise_miscellaneous_bill(
                officer=request.user, payer=payer, lines=form.lines(), ward=data["ward"]
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except PermissionDenied:
            form.add_error(None, _("You cannot raise bills for these items."))
        else:
            messages.success(
                request,
                _("Bill %(number)s raised for KES %(total)s.")
                % {"number": bill.number, "total": format_amount(bill.total)},
            )
            return redirect("payments:staff_bill", number=bill.number)
    context = {"form": form, "has_streams": streams.exists()}
    return render(request, "payments/staff_bill_raise.html", context)


# --- Suspense ---------------------------------------------------------------------------


@staff_required("payments.review_suspense")
@require_GET
def suspense_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(list_suspense_payments(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "payments/staff_suspense_list.html", {"page": page})


@staff_required("payments.review_suspense")
@require_http_methods(["GET", "POST"])
def suspense_assign(request: HttpRequest, public_id: UUID) -> HttpResponse:
    payment = get_suspense_payment(public_id=public_id)
    if payment is None:
        raise Http404("no such payment in suspense")
    form = AssignSuspenseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        number = form.cleaned_data["bill_number"]
        try:
            bill = access_bill_for_staff(
                user=request.user, number=number, action="payments.review_suspense"
            )
        except PermissionDenied:
            form.add_error(
                "bill_number", _("You cannot assign payments to bills of that department.")
            )
        else:
            if bill is None:
                form.add_error("bill_number", _("No bill has that number."))
            else:
                try:
                    assign_suspense_payment(payment=payment, bill_number=number, actor=request.user)
                except ValidationError as exc:
                    apply_service_errors(form, exc)
                else:
                    messages.success(
                        request,
                        _("The payment of KES %(amount)s is now on bill %(number)s.")
                        % {"amount": format_amount(payment.amount), "number": bill.number},
                    )
                    return redirect("payments:staff_suspense")
    return render(
        request, "payments/staff_suspense_assign.html", {"payment": payment, "form": form}
    )


# --- Receipts ---------------------------------------------------------------------------


@staff_required("payments.view_bills")
@never_cache
@require_GET
def receipt_pdf(request: HttpRequest, number: str) -> HttpResponse:
    receipt = access_receipt_for_staff(user=request.user, number=number)
    if receipt is None:
        raise Http404("no such receipt")
    return pdf_response(render_receipt_pdf(receipt=receipt), filename=f"{receipt.number}.pdf")


urlpatterns = [
    path("staff/bills/", bill_list, name="staff_bills"),
    path("staff/bills/new/", raise_bill, name="staff_raise_bill"),
    path("staff/bills/<str:number>/", bill_detail, name="staff_bill"),
    path("staff/suspense/", suspense_list, name="staff_suspense"),
    path("staff/suspense/<uuid:public_id>/", suspense_assign, name="staff_suspense_assign"),
    path("staff/receipts/<str:number>.pdf", receipt_pdf, name="staff_receipt_pdf"),
]
