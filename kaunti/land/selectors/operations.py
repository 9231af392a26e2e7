"""What /metrics reports of land's work: the progress of the latest rates billing run."""

from kaunti.core.metrics.figures import Figure
from kaunti.core.models import Job, JobState
from kaunti.land.selectors.billing import BILLING_JOB_KIND


def billing_figures() -> list[Figure]:
    """The latest rates billing job: parcels done of total, and its state (1 for the state
    it is in). Nothing before the first run."""
    job = (
        Job.objects.filter(kind=BILLING_JOB_KIND)
        .order_by("-created_at", "-pk")
        .only("state", "done", "total")
        .first()
    )
    if job is None:
        return []
    return [
        Figure.single(
            "kaunti_land_billing_run_done",
            "Parcels the latest rates billing run has billed so far.",
            job.done,
        ),
        Figure.single(
            "kaunti_land_billing_run_total",
            "Parcels the latest rates billing run has to bill (0 until it starts).",
            job.total,
        ),
        Figure(
            "kaunti_land_billing_run_state",
            "The latest rates billing run's state: 1 for the one it is in.",
            [({"state": state}, 1.0 if job.state == state else 0.0) for state in JobState.values],
            labels=("state",),
        ),
    ]
