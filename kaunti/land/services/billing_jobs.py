"""Starting the annual billing in the background, as a job whose page shows progress.

The job's Celery task (`kaunti.land.tasks`) registers itself under `BILL_RATES_TASK`, and
this service enqueues it by that name through `core.services.jobs`: services never import tasks
(tasks call services), so the views and the API keep calling one service to start a run.
"""

from typing import Any

from django.utils.translation import gettext as _

from kaunti.core.models import Job
from kaunti.core.services import jobs
from kaunti.land.services.billing import billing_context
from kaunti.land.services.rating import format_financial_year

BILL_RATES_TASK = "kaunti.land.tasks.bill_rates_task"


def start_billing_job(*, financial_year: int, actor: Any | None) -> Job:
    """Record a billing job and enqueue its Celery task after commit (the job's page,
    /staff/jobs/<uuid>/, shows the bar). Refused at once, with no job, if the year cannot
    be billed yet (no rating terms, no rates, no approved roll)."""
    billing_context(financial_year=financial_year, actor=actor)
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    job = jobs.create_job(
        kind="land.bill_rates",
        description=_("Land rates %(year)s") % {"year": format_financial_year(financial_year)},
        started_by=user,
    )
    jobs.enqueue_on_commit(
        BILL_RATES_TASK,
        job_id=job.pk,
        financial_year=financial_year,
        user_id=user.pk if user is not None else None,
    )
    return job
