"""The public "check my rates balance" page: anyone types a parcel number and learns what
it owes and the bill numbers to pay with (the M-Pesa account number), nothing about who
owns it. Rate-limited per IP address so nobody can walk the register."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from kaunti.core import ratelimit
from kaunti.land.forms import BalanceCheckForm
from kaunti.land.selectors.balances import get_public_balance

LOOKUPS_PER_IP_PER_HOUR = 30


def _client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


@never_cache
@require_http_methods(["GET", "POST"])
def check_balance(request: HttpRequest) -> HttpResponse:
    form = BalanceCheckForm(request.POST or None)
    result = None
    looked_up = False
    if request.method == "POST" and form.is_valid():
        limit = int(
            getattr(settings, "LAND_BALANCE_LOOKUPS_PER_IP_PER_HOUR", LOOKUPS_PER_IP_PER_HOUR)
        )
        if not ratelimit.allow(
            scope="land-balance-ip",
            identity=_client_ip(request),
            limit=limit,
            window_seconds=3600,
        ):
            form.add_error(None, _("Too many look-ups from here. Wait an hour, then try again."))
        else:
            looked_up = True
            result = get_public_balance(number=form.cleaned_data["number"])
            if result is None:
                form.add_error(
                    "number", _("We have no parcel with that number. Check it on the title deed.")
                )
                looked_up = False
    status = 429 if form.non_field_errors() else 200
    return render(
        request,
        "land/balance.html",
        {
            "form": form,
            "result": result,
            "looked_up": looked_up,
            "paybill": getattr(settings, "MPESA_SHORTCODE", ""),
        },
        status=status,
    )


urlpatterns = [
    path("land/rates-balance/", check_balance, name="check_balance"),
]
