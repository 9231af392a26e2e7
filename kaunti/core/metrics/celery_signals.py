"""Celery signal handlers, connected in every process (`CoreConfig.ready`): the request id
of the request that queued a task travels in its message and is the task's while it
runs, so the worker's log lines carry it; and each task's outcome and duration are
counted."""

import time
from contextvars import Token
from typing import Any

from celery import signals

from kaunti.core.logging import request_id_var
from kaunti.core.metrics.instruments import TASK_DURATION, TASKS

# The message header that carries the request id (a custom header: Celery hands it to the
# task as an attribute of `task.request`).
REQUEST_ID_HEADER = "kaunti_request_id"

# Per task id, while it runs: the token that restores the id before it, and its start. A
# stack: run eagerly, a retry runs again inside the first run, under the same id.
_running: dict[str, list[tuple[Token[str] | None, float]]] = {}


def add_request_id(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """`before_task_publish`: put the current request id in the message's headers."""
    request_id = request_id_var.get()
    if headers is not None and request_id != "-":
        headers.setdefault(REQUEST_ID_HEADER, request_id)


def _request_id_of(task: Any) -> str | None:
    request = getattr(task, "request", None)
    if request is None:
        return None
    value = getattr(request, REQUEST_ID_HEADER, None)
    if value is None:
        value = (getattr(request, "headers", None) or {}).get(REQUEST_ID_HEADER)
    return str(value) if value else None


def task_started(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    """`task_prerun`: the task's log lines carry the request id its message brought."""
    request_id = _request_id_of(task)
    token = request_id_var.set(request_id) if request_id else None
    if task_id:
        _running.setdefault(task_id, []).append((token, time.perf_counter()))


def task_ended(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    """`task_postrun`: its duration counted; the request id before it restored."""
    runs = _running.get(task_id or "")
    if not runs:
        return
    token, started = runs.pop()
    if not runs:
        del _running[task_id or ""]
    if task is not None:
        TASK_DURATION.labels(task.name).observe(time.perf_counter() - started)
    if token is not None:
        request_id_var.reset(token)


def _task_name(sender: Any) -> str:
    return str(getattr(sender, "name", None) or sender or "unknown")


def task_succeeded(sender: Any = None, **kwargs: Any) -> None:
    TASKS.labels(_task_name(sender), "success").inc()


def task_failed(sender: Any = None, **kwargs: Any) -> None:
    TASKS.labels(_task_name(sender), "failure").inc()


def task_retried(sender: Any = None, **kwargs: Any) -> None:
    TASKS.labels(_task_name(sender), "retry").inc()


def connect() -> None:
    """Connect the handlers (idempotent: Celery keeps one per `dispatch_uid`)."""
    signals.before_task_publish.connect(add_request_id, dispatch_uid="kaunti.request_id")
    signals.task_prerun.connect(task_started, dispatch_uid="kaunti.task_started")
    signals.task_postrun.connect(task_ended, dispatch_uid="kaunti.task_ended")
    signals.task_success.connect(task_succeeded, dispatch_uid="kaunti.task_succeeded")
    signals.task_failure.connect(task_failed, dispatch_uid="kaunti.task_failed")
    signals.task_retry.connect(task_retried, dispatch_uid="kaunti.task_retried")
