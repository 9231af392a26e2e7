"""Staff pages of rates billing: start the year's billing (a Celery task through the
domain's `start_billing_job`), watch its progress (htmx every 2 s, with a Refresh link
for phones without JavaScript), the list of runs, and the monthly penalty run."""

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from kaunti.core.forms import apply_service_errors
from kaunti.core.money import financial_year, format_amount
from kaunti.core.views_support import signed_in_user
from kaunti.land.forms import PenaltyRunForm, StartBillingForm
from kaunti.land.permissions import RUN_BILLING, VIEW_PARCELS, land_permissions
from kaunti.land.selectors.billing import (
    billing_run_percent,
    get_billing_job,
    get_billing_run_of_job,
    list_billing_runs,
)
from kaunti.land.services import billing_jobs, penalties
from kaunti.land.services.rating import format_financial_year
from kaunti.land.views import land_staff_required

ACTIVE_JOB_STATES = frozenset({"queued", "running"})


def _billing_page(
    request: HttpRequest, start_form: StartBillingForm, penalty_form: PenaltyRunForm
) -> HttpResponse:
    runs = list(list_billing_runs()[:50])
    return render(
        request,
        "land/billing.html",
        {
            "runs": [
                (
                    run,
                    billing_run_percent(run),
                    format_financial_year(run.financial_year),
                )
                for run in runs
            ],
            "start_form": start_form,
            "penalty_form": penalty_form,
            "may": land_permissions(request.user),
        },
    )


def _forms() -> tuple[StartBillingForm, PenaltyRunForm]:
    today = timezone.localdate()
    return (
        StartBillingForm(initial={"financial_year": financial_year(today)}),
        PenaltyRunForm(initial={"month": f"{today:%Y-%m}"}),
    )


@never_cache
@land_staff_required(VIEW_PARCELS)
@require_GET
def billing_home(request: HttpRequest) -> HttpResponse:
    start_form, penalty_form = _forms()
    return _billing_page(request, start_form, penalty_form)


@land_staff_required(RUN_BILLING)
@require_POST
def start_billing(request: HttpRequest) -> HttpResponse:
    _unused, penalty_form = _forms()
    form = StartBillingForm(request.POST)
    if form.is_valid():
        try:
            job = billing_jobs.start_billing_job(
                financial_year=form.cleaned_data["financial_year"], actor=signed_in_user(request)
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return redirect("land:billing_progress", public_id=job.public_id)
    return _billing_page(request, form, penalty_form)


@land_staff_required(RUN_BILLING)
@require_POST
def run_penalties(request: HttpRequest) -> HttpResponse:
    start_form, _unused = _forms()
    form = PenaltyRunForm(request.POST)
    if form.is_valid():
        month = form.cleaned_data["month"]
        try:
            result = penalties.apply_monthly_penalties(month=month, actor=signed_in_user(request))
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            if result.waived:
                messages.success(
                    request,
                    _("No penalties for %(month)s: a waiver campaign covers it.")
                    % {"month": f"{month:%m/%Y}"},
                )
            else:
                messages.success(
                    request,
                    _("Penalties for %(month)s: %(count)s parcels charged KES %(amount)s.")
                    % {
                        "month": f"{month:%m/%Y}",
                        "count": result.penalties_charged,
                        "amount": format_amount(result.amount),
                    },
                )
            return redirect("land:billing")
    return _billing_page(request, start_form, form)


def _progress_context(public_id: UUID) -> dict[str, object]:
    job = get_billing_job(public_id=public_id)
    if job is None:
        raise Http404("no such billing job")
    run = get_billing_run_of_job(job=job)
    return {"job": job, "run": run, "is_active": job.state in ACTIVE_JOB_STATES}


@never_cache
@land_staff_required(VIEW_PARCELS)
@require_GET
def billing_progress(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The run's progress bar; htmx asks for just the fragment every 2 s while it runs."""
    context = _progress_context(public_id)
    if request.headers.get("HX-Request") == "true":
        return render(request, "land/_billing_progress.html", context)
    return render(request, "land/billing_progress.html", context)


urlpatterns = [
    path("staff/land/billing/", billing_home, name="billing"),
    path("staff/land/billing/start/", start_billing, name="billing_start"),
    path("staff/land/billing/penalties/", run_penalties, name="penalty_run"),
    path("staff/land/billing/jobs/<uuid:public_id>/", billing_progress, name="billing_progress"),
]
