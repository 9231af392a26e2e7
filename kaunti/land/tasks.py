"""Celery tasks of the land app: thin wrappers around services."""

from celery import shared_task
from django.utils import timezone

from kaunti.accounts.models import User
from kaunti.core.models import Job
from kaunti.land.services import billing, penalties
from kaunti.land.services.billing_jobs import BILL_RATES_TASK


@shared_task(name=BILL_RATES_TASK, acks_late=True)
def bill_rates_task(*, job_id: int, financial_year: int, user_id: int | None = None) -> int:
    """Run (or resume) the year's rates billing, advancing the job's progress bar."""
    job = Job.objects.get(pk=job_id)
    actor = User.objects.filter(pk=user_id).first() if user_id else None
    run = billing.bill_rates(financial_year=financial_year, actor=actor, job=job)
    return run.bills_created


@shared_task(name="kaunti.land.tasks.apply_monthly_penalties_task", acks_late=True)
def apply_monthly_penalties_task() -> int:
    """The month's penalty run (scheduled monthly; idempotent, so safe to repeat)."""
    result = penalties.apply_monthly_penalties(month=timezone.localdate(), actor=None)
    return result.penalties_charged
