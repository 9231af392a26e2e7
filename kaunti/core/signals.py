"""Celery signals the kernel listens to: each run of a scheduled job is recorded as it
starts and as it ends (`services.scheduled`, ADR 18). Connected in `CoreConfig.ready`, so
every process that runs tasks (worker, or the web process when tasks run eagerly) records."""

from typing import Any

from celery.signals import task_postrun, task_prerun

from kaunti.core.services import scheduled


def _started(sender: Any = None, task_id: str = "", task: Any = None, **_: Any) -> None:
    name = getattr(sender, "name", "") or getattr(task, "name", "")
    hostname = getattr(getattr(task, "request", None), "hostname", None)
    scheduled.run_started(task_id=task_id or "", task_name=name, hostname=hostname)


def _finished(
    sender: Any = None,
    task_id: str = "",
    task: Any = None,
    retval: Any = None,
    state: str | None = None,
    **_: Any,
) -> None:
    name = getattr(sender, "name", "") or getattr(task, "name", "")
    scheduled.run_finished(
        task_id=task_id or "", task_name=name, succeeded=state == "SUCCESS", result=retval
    )


def connect() -> None:
    """Connect the handlers once (a second call is a no-op: same dispatch ids)."""
    task_prerun.connect(_started, weak=False, dispatch_uid="kaunti.scheduled_run_started")
    task_postrun.connect(_finished, weak=False, dispatch_uid="kaunti.scheduled_run_finished")
