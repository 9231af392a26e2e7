"""Staff pages of the rating terms: each financial year's due date and monthly penalty,
its rules (rate on site value by land use or zone, with a minimum), and waiver campaigns.
Everyone who may view parcels may read them; setting them is a Lands supervisor's
(`land.manage_rating`)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from kaunti.core.forms import apply_service_errors
from kaunti.core.views_support import signed_in_user
from kaunti.land.forms import RatingRuleForm, RatingYearForm, WaiverCampaignForm
from kaunti.land.permissions import MANAGE_RATING, VIEW_PARCELS, land_permissions
from kaunti.land.selectors.billing import get_rating_year, list_rating_years, list_waiver_campaigns
from kaunti.land.services import rating
from kaunti.land.views import land_staff_required


def _page(
    request: HttpRequest,
    *,
    year_form: RatingYearForm | None = None,
    rule_form: RatingRuleForm | None = None,
    waiver_form: WaiverCampaignForm | None = None,
) -> HttpResponse:
    return render(
        request,
        "land/rating.html",
        {
            "years": list_rating_years(),
            "waivers": list_waiver_campaigns(),
            "year_form": year_form or RatingYearForm(),
            "rule_form": rule_form or RatingRuleForm(),
            "waiver_form": waiver_form or WaiverCampaignForm(),
            "may": land_permissions(request.user),
        },
    )


@never_cache
@land_staff_required(VIEW_PARCELS)
@require_GET
def rating_home(request: HttpRequest) -> HttpResponse:
    return _page(request)


@land_staff_required(MANAGE_RATING)
@require_POST
def set_year(request: HttpRequest) -> HttpResponse:
    form = RatingYearForm(request.POST)
    if form.is_valid():
        try:
            rating.set_rating_year(**form.cleaned_data, actor=signed_in_user(request))
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The year's rating terms are saved."))
            return redirect("land:rating")
    return _page(request, year_form=form)


@land_staff_required(MANAGE_RATING)
@require_POST
def set_rule(request: HttpRequest) -> HttpResponse:
    form = RatingRuleForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        rating_year = get_rating_year(financial_year=data["financial_year"])
        if rating_year is None:
            form.add_error(
                "financial_year", _("Set this year's due date and penalty first, above.")
            )
        else:
            try:
                rating.set_rating_rule(
                    rating_year=rating_year,
                    land_use=data["land_use"],
                    zone=data["zone"],
                    rate_percent=data["rate_percent"],
                    minimum_charge=data["minimum_charge"],
                    actor=signed_in_user(request),
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("The rating rule is saved."))
                return redirect("land:rating")
    return _page(request, rule_form=form)


@land_staff_required(MANAGE_RATING)
@require_POST
def create_waiver(request: HttpRequest) -> HttpResponse:
    form = WaiverCampaignForm(request.POST)
    if form.is_valid():
        try:
            rating.create_waiver_campaign(**form.cleaned_data, actor=signed_in_user(request))
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The waiver campaign is saved."))
            return redirect("land:rating")
    return _page(request, waiver_form=form)


urlpatterns = [
    path("staff/land/rating/", rating_home, name="rating"),
    path("staff/land/rating/years/", set_year, name="rating_set_year"),
    path("staff/land/rating/rules/", set_rule, name="rating_set_rule"),
    path("staff/land/rating/waivers/", create_waiver, name="rating_create_waiver"),
]
