"""Settings for the worker and beat that test_scheduled_worker.py starts: the project's own,
with a schedule of one job every second, so a run is seen within seconds."""

from kaunti.settings import *  # noqa: F403

CELERY_BEAT_SCHEDULE = {
    "prune-scheduled-job-runs": {
        "task": "kaunti.core.tasks.prune_scheduled_job_runs",
        "schedule": 1.0,
    },
}
