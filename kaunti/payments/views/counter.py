"""Counter pages: a cashier opens a till with a float, takes cash, bank deposit slips and
cheques for bills, sees the till's receipts and closes it with a blind count (the
expected cash is shown only after the count). A supervisor cancels a receipt, recording
who asked for it. Thin: forms check shape, selectors read, services act.
"""

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kaunti.accounts.decorators import staff_required
from kaunti.accounts.permissions import departments_where
from kaunti.core.forms import apply_service_errors
from kaunti.core.models import Department
from kaunti.payments.forms import (
    BillLookupForm,
    CancelReceiptForm,
    CloseTillForm,
    CounterPaymentForm,
    FindReceiptForm,
    OpenTillForm,
)
from kaunti.payments.models import BillStatus
from kaunti.payments.selectors.bills import get_active_staff_by_username, get_bill_for_counter
from kaunti.payments.selectors.receipts import (
    access_receipt_for_cancellation,
    access_receipt_for_staff,
    is_receipt_cancelled,
)
from kaunti.payments.selectors.tills import (
    get_open_till,
    get_till_for_user,
    get_till_totals,
    list_till_payments,
)
from kaunti.payments.services import counter, receipt_cancellation

RECEIVE = "payments.receive_payment"


def _till_context(request: HttpRequest) -> dict[str, object]:
    till = get_open_till(cashier=request.user)
    if till is None:
        return {"till": None}
    return {
        "till": till,
        "totals": get_till_totals(till=till),
        "payments": list_till_payments(till=till)[:100],
    }


@staff_required(RECEIVE)
@require_http_methods(["GET", "POST"])
def counter_home(request: HttpRequest) -> HttpResponse:
    """The cashier's till: its takings and receipts when open, the form to open it if not."""
    context = _till_context(request)
    if context["till"] is not None:
        return render(request, "payments/counter_home.html", context)
    departments = Department.objects.filter(
        pk__in=[d.pk for d in departments_where(request.user, RECEIVE)]
    )
    form = OpenTillForm(request.POST or None, departments=departments)
    if request.method == "POST" and form.is_valid():
        try:
            counter.open_till(
                cashier=request.user,
                department=form.cleaned_data["department"],
                opening_float=form.cleaned_data["opening_float"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Your till is open."))
            return redirect("payments:counter_home")
    return render(request, "payments/counter_open.html", {"form": form})


@staff_required(RECEIVE)
@require_http_methods(["GET", "POST"])
def counter_receive(request: HttpRequest) -> HttpResponse:
    """Find the bill (step one), then take the payment for it (step two)."""
    till = get_open_till(cashier=request.user)
    if till is None:
        messages.info(request, _("Open your till before taking payments."))
        return redirect("payments:counter_home")
    lookup = BillLookupForm(request.GET if "bill" in request.GET else None)
    bill = None
    if lookup.is_bound and lookup.is_valid():
        bill = get_bill_for_counter(number=lookup.cleaned_data["bill"])
        if bill is None:
            lookup.add_error("bill", _("No open bill has that number. Check it with the payer."))
        elif bill.status == BillStatus.PAID and request.method != "POST":
            # On a POST the service decides: a repeat of the form that paid it in full
            # is answered with its receipt, anything else is refused.
            lookup.add_error("bill", _("This bill is already paid in full."))
            bill = None
    if bill is None:
        return render(request, "payments/counter_receive.html", {"lookup": lookup, "till": till})
    form = CounterPaymentForm(
        request.POST or None,
        initial={"token": counter.new_form_token(), "amount": bill.balance, "method": "cash"},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payment = counter.receive_counter_payment(
                till=till,
                bill_number=bill.number,
                amount=data["amount"],
                method=data["method"],
                bank=data["bank"],
                reference=data["reference"],
                idempotency_token=data["token"],
                actor=request.user,
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("payments:counter_receipt", number=payment.receipt.number)
    context = {"lookup": lookup, "till": till, "bill": bill, "form": form}
    return render(request, "payments/counter_receive.html", context)


@staff_required(RECEIVE)
@require_GET
def counter_receipt(request: HttpRequest, number: str) -> HttpResponse:
    """A receipt just issued at the counter, to print or hand over."""
    receipt = access_receipt_for_staff(user=request.user, number=number)
    if receipt is None:
        raise Http404("no such receipt")
    return render(request, "payments/counter_receipt.html", {"receipt": receipt})


@staff_required(RECEIVE)
@require_http_methods(["GET", "POST"])
def counter_close(request: HttpRequest) -> HttpResponse:
    """The blind count: the cashier types what the drawer holds before seeing the expected."""
    till = get_open_till(cashier=request.user)
    if till is None:
        messages.info(request, _("You have no open till."))
        return redirect("payments:counter_home")
    form = CloseTillForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            closed = counter.close_till(
                till=till, counted_cash=form.cleaned_data["counted_cash"], actor=request.user
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Your till is closed."))
            return redirect("payments:counter_till", public_id=closed.public_id)
    totals = get_till_totals(till=till)
    return render(request, "payments/counter_close.html", {"form": form, "totals": totals})


@staff_required(RECEIVE)
@require_GET
def counter_till(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """One of the cashier's own tills: takings, and once closed the count and variance."""
    till = get_till_for_user(user=request.user, public_id=public_id)
    if till is None:
        raise Http404("no such till")
    context = {
        "till": till,
        "totals": get_till_totals(till=till),
        "payments": list_till_payments(till=till),
        "variance_abs": abs(till.variance) if till.variance is not None else None,
    }
    return render(request, "payments/counter_till.html", context)


@staff_required("payments.cancel_receipt")
@require_http_methods(["GET", "POST"])
def counter_cancel_receipt(request: HttpRequest) -> HttpResponse:
    """A supervisor finds a receipt and cancels it, naming who asked (never themselves)."""
    find = FindReceiptForm(request.GET if "receipt" in request.GET else None)
    receipt = None
    if find.is_bound and find.is_valid():
        receipt = access_receipt_for_cancellation(
            user=request.user, number=find.cleaned_data["receipt"]
        )
        if receipt is None:
            find.add_error("receipt", _("No receipt has that number."))
    if receipt is None:
        return render(request, "payments/counter_cancel_receipt.html", {"find": find})
    cashier = receipt.payment.received_by
    form = CancelReceiptForm(
        request.POST or None, initial={"requested_by": cashier.get_username() if cashier else ""}
    )
    if request.method == "POST" and form.is_valid():
        requester = get_active_staff_by_username(username=form.cleaned_data["requested_by"])
        if requester is None:
            form.add_error("requested_by", _("No active staff member has that username."))
        else:
            try:
                receipt_cancellation.cancel_receipt(
                    receipt=receipt,
                    reason=form.cleaned_data["reason"],
                    requested_by=requester,
                    approved_by=request.user,
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Receipt %(number)s is cancelled and its payment reversed.")
                    % {"number": receipt.number},
                )
                return redirect(
                    reverse("payments:counter_cancel_receipt") + f"?receipt={receipt.number}"
                )
    context = {
        "find": find,
        "receipt": receipt,
        "form": form,
        "is_cancelled": is_receipt_cancelled(receipt),
    }
    return render(request, "payments/counter_cancel_receipt.html", context)


urlpatterns = [
    path("staff/counter/", counter_home, name="counter_home"),
    path("staff/counter/receive/", counter_receive, name="counter_receive"),
    path("staff/counter/receipts/<str:number>/", counter_receipt, name="counter_receipt"),
    path("staff/counter/close/", counter_close, name="counter_close"),
    path("staff/counter/tills/<uuid:public_id>/", counter_till, name="counter_till"),
    path("staff/counter/cancel-receipt/", counter_cancel_receipt, name="counter_cancel_receipt"),
]
