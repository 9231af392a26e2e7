"""Rating years, waiver campaigns, billing runs and their jobs, and legacy arrears imports."""

from typing import Any

from django.db.models import QuerySet

from kaunti.core.models import Job
from kaunti.land.models import (
    BillingRun,
    LegacyImport,
    RatingYear,
    WaiverCampaign,
)


def get_legacy_import(*, public_id: Any) -> LegacyImport | None:
    return LegacyImport.objects.select_related("imported_by").filter(public_id=public_id).first()


def list_rating_years() -> list[RatingYear]:
    return list(RatingYear.objects.prefetch_related("rules").order_by("-financial_year")[:20])


def get_rating_year(*, financial_year: int) -> RatingYear | None:
    return RatingYear.objects.filter(financial_year=financial_year).first()


def list_waiver_campaigns() -> list[WaiverCampaign]:
    return list(WaiverCampaign.objects.order_by("-starts_on")[:50])


def list_billing_runs() -> QuerySet[BillingRun]:
    return BillingRun.objects.select_related("roll", "job", "started_by").order_by(
        "-started_at", "-id"
    )


def get_billing_run(*, public_id: Any) -> BillingRun | None:
    return list_billing_runs().filter(public_id=public_id).first()


BILLING_JOB_KIND = "land.bill_rates"


def get_billing_job(*, public_id: Any) -> Job | None:
    """A rates billing job (only those: other jobs are not the land pages' to show)."""
    return Job.objects.filter(public_id=public_id, kind=BILLING_JOB_KIND).first()


def get_billing_run_of_job(*, job: Job) -> BillingRun | None:
    return list_billing_runs().filter(job=job).first()


def billing_run_percent(run: BillingRun) -> int:
    """How far a run is, from its job when it has one (the task advances it)."""
    job: Job | None = run.job
    if job is not None:
        return job.percent
    if not run.total_parcels:
        return 100 if run.state == "finished" else 0
    return min(100, run.bills_created * 100 // run.total_parcels)
