"""Citizen pages: "My bills" (bills raised in the signed-in person's name, with their
receipts) and paying a bill by M-Pesa prompt. Another person's bill answers 404.

The prompt is sent by a background task after the request commits; the status page
refreshes itself with htmx while the prompt is out, and has a plain Refresh link for
phones without JavaScript.
"""

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from kaunti.core.forms import apply_service_errors
from kaunti.core.views_support import pdf_response
from kaunti.payments.forms import PayWithMpesaForm
from kaunti.payments.models import BillStatus, StkStatus
from kaunti.payments.mpesa.stk import IdempotencyConflict, request_stk_push
from kaunti.payments.selectors.citizens import (
    get_citizen_bill,
    get_citizen_receipt,
    get_citizen_stk_request,
    list_citizen_bills,
    list_citizen_receipts,
)
from kaunti.payments.services.counter import new_form_token
from kaunti.payments.services.receipts import render_receipt_pdf

WAITING = frozenset({StkStatus.REQUESTED, StkStatus.PENDING})


def _local_phone(msisdn: str | None) -> str:
    """`254712345678` as people write it: `0712345678`."""
    return "0" + msisdn[3:] if msisdn and msisdn.startswith("254") else (msisdn or "")


@login_required
@require_GET
def my_bills(request: HttpRequest) -> HttpResponse:
    bills = list(list_citizen_bills(user=request.user)[:200])
    receipts = list_citizen_receipts(bills=bills)
    rows = [(bill, receipts.get(bill.pk, [])) for bill in bills]
    return render(request, "payments/my_bills.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def pay_bill(request: HttpRequest, number: str) -> HttpResponse:
    bill = get_citizen_bill(user=request.user, number=number)
    if bill is None:
        raise Http404("no such bill")
    if bill.status in (BillStatus.PAID, BillStatus.CANCELLED):
        messages.info(
            request, _("Bill %(number)s has nothing left to pay.") % {"number": bill.number}
        )
        return redirect("payments:my_bills")
    phone = getattr(request.user, "phone", None)
    form = PayWithMpesaForm(
        request.POST or None, initial={"phone": _local_phone(phone), "token": new_form_token()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            stk = request_stk_push(
                bill=bill,
                phone=form.cleaned_data["phone"],
                actor=request.user,
                idempotency_key=f"web:{request.user.pk}:{form.cleaned_data['token']}",
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except IdempotencyConflict:
            form.add_error(None, _("This form was already used. Reload the page and try again."))
        else:
            return redirect("payments:pay_bill_status", number=bill.number, public_id=stk.public_id)
    return render(request, "payments/bill_pay.html", {"bill": bill, "form": form})


@never_cache
@login_required
@require_GET
def pay_bill_status(request: HttpRequest, number: str, public_id: UUID) -> HttpResponse:
    """Where the prompt is; htmx asks for just the status fragment every few seconds."""
    bill = get_citizen_bill(user=request.user, number=number)
    stk = (
        get_citizen_stk_request(user=request.user, bill=bill, public_id=public_id)
        if bill is not None
        else None
    )
    if bill is None or stk is None:
        raise Http404("no such payment request")
    receipt = getattr(stk.payment, "receipt", None) if stk.payment_id else None
    context = {
        "bill": bill,
        "stk": stk,
        "phone": _local_phone(stk.phone),
        "is_waiting": stk.status in WAITING,
        "receipt": receipt,
    }
    if request.headers.get("HX-Request") == "true":
        return render(request, "payments/bill_pay_status_fragment.html", context)
    return render(request, "payments/bill_pay_status.html", context)


@never_cache
@login_required
@require_GET
def my_receipt_pdf(request: HttpRequest, number: str) -> HttpResponse:
    receipt = get_citizen_receipt(user=request.user, number=number)
    if receipt is None:
        raise Http404("no such receipt")
    return pdf_response(render_receipt_pdf(receipt=receipt), filename=f"{receipt.number}.pdf")


urlpatterns = [
    path("account/bills/", my_bills, name="my_bills"),
    path("account/bills/<str:number>/pay/", pay_bill, name="pay_bill"),
    path(
        "account/bills/<str:number>/pay/<uuid:public_id>/",
        pay_bill_status,
        name="pay_bill_status",
    ),
    path("account/receipts/<str:number>.pdf", my_receipt_pdf, name="my_receipt_pdf"),
]
