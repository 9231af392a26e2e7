"""Celery application; tasks run eagerly in-process when no broker is configured."""

import os
import sys
from pathlib import Path
from typing import Any

from celery import Celery, signals

from kaunti.core.metrics import processes

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kaunti.settings")


def _is_celery_worker(argv: list[str]) -> bool:
    program = Path(argv[0]) if argv else Path()
    return (program.name == "celery" or program.parent.name == "celery") and "worker" in argv[1:]


if _is_celery_worker(sys.argv):
    # The worker's processes keep their metrics beside gunicorn's, so /metrics on this
    # node adds them up (ADR 21). Set before anything imports prometheus_client.
    processes.use_multiprocess_dir()

app = Celery("kaunti")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.setup_logging.connect
def _json_logs(**kwargs: Any) -> None:
    """The worker logs as the web does: JSON lines with the request id (settings.LOGGING),
    instead of Celery's own format."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


@signals.worker_process_shutdown.connect
def _forget_live_gauges(**kwargs: Any) -> None:
    processes.mark_process_dead(os.getpid())
