"""/metrics: who may read it, and what it counts (requests, database time, Celery tasks
and queues, the outbox), in one process and summed over several."""

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextvars import copy_context
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from django.conf import settings as django_settings
from django.test import Client

from kaunti import celery_app
from kaunti.accounts.models import Role, User
from kaunti.conftest import sign_in_staff
from kaunti.core.logging import JsonFormatter, RequestIdFilter, request_id_var
from kaunti.core.metrics import celery_signals, processes
from kaunti.core.metrics.figures import Figure, register_figures, registered_sources
from kaunti.core.models import OutboxMessage
from kaunti.core.services.audit import record_event, seal_pending_events
from kaunti.core.tests.scrape import TOKEN, scrape, value

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[3]


# --- Who may read it ---------------------------------------------------------------------


def test_anonymous_is_asked_for_credentials(client: Client, settings: Any) -> None:
    settings.METRICS_TOKEN = TOKEN
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"kaunti_" not in response.content


@pytest.mark.parametrize(
    "authorization",
    ["Bearer wrong-token", f"Bearer {TOKEN}x", f"Basic {TOKEN}", "Bearer ", TOKEN],
)
def test_a_wrong_token_is_refused(client: Client, settings: Any, authorization: str) -> None:
    settings.METRICS_TOKEN = TOKEN
    response = client.get("/metrics", HTTP_AUTHORIZATION=authorization)
    assert response.status_code == 401
    assert b"kaunti_" not in response.content


def test_without_a_configured_token_no_bearer_token_opens_it(client: Client, settings: Any) -> None:
    settings.METRICS_TOKEN = ""
    for authorization in ("Bearer ", "Bearer anything", "Bearer  "):
        assert client.get("/metrics", HTTP_AUTHORIZATION=authorization).status_code == 401


def test_the_scrape_token_opens_it(client: Client, settings: Any) -> None:
    samples = scrape(client, settings)
    assert value(samples, "kaunti_figures_source_up", source="core") == 1


def test_a_citizen_is_refused(client: Client, settings: Any, citizen: User) -> None:
    settings.METRICS_TOKEN = ""
    client.force_login(citizen)
    assert client.get("/metrics").status_code == 403


@pytest.mark.parametrize("role", sorted(set(Role.values) - {Role.ICT_OFFICER}))
def test_staff_other_than_ict_are_refused(
    client: Client, settings: Any, make_staff: Callable[..., User], role: str
) -> None:
    settings.METRICS_TOKEN = TOKEN
    sign_in_staff(client, make_staff([role], department="ict"))
    assert client.get("/metrics").status_code == 403
    # Signed in, a bearer token is still checked: a wrong one does not help.
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope").status_code == 403


def test_an_ict_officer_without_the_second_factor_is_refused(
    client: Client, settings: Any, make_staff: Callable[..., User]
) -> None:
    settings.METRICS_TOKEN = ""
    client.force_login(make_staff([Role.ICT_OFFICER], department="ict"))
    assert client.get("/metrics").status_code == 403


@pytest.mark.parametrize("superuser", [False, True], ids=["ict officer", "administrator"])
def test_an_ict_officer_or_the_administrator_signed_in_reads_it_without_a_token(
    client: Client, settings: Any, make_staff: Callable[..., User], superuser: bool
) -> None:
    settings.METRICS_TOKEN = ""
    roles = [Role.ICT_OFFICER] if not superuser else [Role.SUPERVISOR]
    sign_in_staff(client, make_staff(roles, department="ict", superuser=superuser))
    response = client.get("/metrics")
    assert response.status_code == 200
    assert b"kaunti_http_requests_total" in response.content


def test_only_get_is_answered(client: Client, settings: Any) -> None:
    settings.METRICS_TOKEN = TOKEN
    response = client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 405


# --- What it counts ----------------------------------------------------------------------


def test_requests_are_counted_by_route_and_status_with_their_database_time(
    client: Client, settings: Any
) -> None:
    before = scrape(client, settings)
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/no/such/page/12345").status_code == 404
    after = scrape(client, settings)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("kaunti_http_requests_total", view="healthz", method="GET", status="200") == 1
    assert grew("kaunti_http_requests_total", view="readyz", method="GET", status="200") == 1
    # A path no route matches is one label, not the path typed.
    assert grew("kaunti_http_requests_total", view="<unmatched>", method="GET", status="404") == 1
    assert not any("12345" in str(key) for key in after)
    assert grew("kaunti_http_request_duration_seconds_count", view="healthz", method="GET") == 1
    # /readyz asks the database (SELECT 1): its queries and their time are counted.
    assert grew("kaunti_http_db_queries_total", view="readyz") >= 1
    assert grew("kaunti_http_request_db_seconds_count", view="readyz") == 1
    assert grew("kaunti_http_request_db_seconds_sum", view="readyz") > 0


@celery_app.task(name="kaunti.core.tests.metrics_ok")
def _ok() -> str:
    logging.getLogger("kaunti.tests.metrics").info("the task ran")
    return "ok"


@celery_app.task(name="kaunti.core.tests.metrics_broken")
def _broken() -> None:
    raise RuntimeError("broken on purpose")


@celery_app.task(name="kaunti.core.tests.metrics_flaky", bind=True, max_retries=3)
def _flaky(self: Any) -> str:
    if self.request.retries == 0:
        raise self.retry(countdown=0)
    return "ok at last"


def test_task_outcomes_and_durations_are_counted(client: Client, settings: Any) -> None:
    before = scrape(client, settings)
    _ok.delay()
    _broken.delay()
    _flaky.delay()
    after = scrape(client, settings)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("kaunti_celery_tasks_total", task=_ok.name, state="success") == 1
    assert grew("kaunti_celery_tasks_total", task=_broken.name, state="failure") == 1
    assert grew("kaunti_celery_tasks_total", task=_flaky.name, state="retry") == 1
    assert grew("kaunti_celery_tasks_total", task=_flaky.name, state="success") == 1
    assert grew("kaunti_celery_task_duration_seconds_count", task=_ok.name) == 1


def test_the_outbox_backlog_and_its_oldest_age(client: Client, settings: Any) -> None:
    message = OutboxMessage.objects.create(
        channel="sms",
        recipient="254712000111",
        body="Hello",
        template="t",
        language="en",
        next_attempt_at="2026-01-01T00:00:00Z",
    )
    OutboxMessage.objects.filter(pk=message.pk).update(created_at="2026-01-01T00:00:00Z")
    samples = scrape(client, settings)
    assert value(samples, "kaunti_outbox_pending") == 1
    assert value(samples, "kaunti_outbox_oldest_pending_age_seconds") > 3600
    OutboxMessage.objects.filter(pk=message.pk).update(status="sent")
    samples = scrape(client, settings)
    assert value(samples, "kaunti_outbox_pending") == 0
    assert value(samples, "kaunti_outbox_oldest_pending_age_seconds") == 0


def test_a_failing_figure_source_is_reported_down_and_the_scrape_still_answers(
    client: Client, settings: Any
) -> None:
    def broken() -> list[Figure]:
        raise RuntimeError("database gone")

    sources = registered_sources()
    register_figures("zz_broken", broken)
    try:
        samples = scrape(client, settings)
    finally:
        from kaunti.core.metrics import figures

        figures._sources.clear()
        figures._sources.update(sources)
    assert value(samples, "kaunti_figures_source_up", source="zz_broken") == 0
    assert value(samples, "kaunti_figures_source_up", source="payments") == 1


# --- Celery queues -------------------------------------------------------------------------


def test_queue_lengths_are_read_from_a_redis_broker(client: Client, settings: Any) -> None:
    if not django_settings.REDIS_URL:
        pytest.skip("needs Redis (REDIS_URL)")
    from redis import Redis

    settings.CELERY_BROKER_URL = django_settings.REDIS_URL
    redis = Redis.from_url(django_settings.REDIS_URL)
    redis.delete("celery", "notifications")
    redis.rpush("notifications", "a", "b", "c")
    try:
        samples = scrape(client, settings)
    finally:
        redis.delete("celery", "notifications")
    assert value(samples, "kaunti_celery_queue_length", queue="notifications") == 3
    assert value(samples, "kaunti_celery_queue_length", queue="celery") == 0
    assert value(samples, "kaunti_celery_broker_up") == 1


def test_no_queue_lengths_without_a_redis_broker(client: Client, settings: Any) -> None:
    settings.CELERY_BROKER_URL = ""
    samples = scrape(client, settings)
    assert not any(name.startswith("kaunti_celery_queue_length") for name, _ in samples)
    settings.CELERY_BROKER_URL = "amqp://guest@127.0.0.1:5672//"
    samples = scrape(client, settings)
    assert not any(name.startswith("kaunti_celery_queue_length") for name, _ in samples)


def test_an_unreachable_redis_broker_is_reported_not_a_failed_scrape(
    client: Client, settings: Any
) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    samples = scrape(client, settings)
    assert value(samples, "kaunti_celery_broker_up") == 0


# --- The request id travels into tasks -----------------------------------------------------


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Log lines as the console handler writes them (settings.LOGGING): JSON, with the id."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("kaunti.tests.metrics")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)


def test_a_task_queued_in_a_request_logs_with_that_requests_id(
    json_log: io.StringIO,
) -> None:
    """Published to a broker (kombu's in-memory one) during a request, the message carries
    the request's id; the worker, in another context, runs the task with that id."""
    publisher = Celery("publisher", broker="memory://", set_as_current=False)

    def in_the_request() -> None:
        request_id_var.set("req-7f3a")
        publisher.send_task(_ok.name)

    copy_context().run(in_the_request)
    with publisher.connection_for_read() as connection:
        message = connection.SimpleQueue("celery").get(timeout=2)
        message.ack()
    assert message.headers[celery_signals.REQUEST_ID_HEADER] == "req-7f3a"

    def in_the_worker() -> None:
        assert request_id_var.get() == "-"
        _ok.apply(headers=message.headers)
        # Back to no request once the task is over (a worker process runs many).
        assert request_id_var.get() == "-"

    copy_context().run(in_the_worker)
    line = json.loads(json_log.getvalue().splitlines()[-1])
    assert line["message"] == "the task ran"
    assert line["request_id"] == "req-7f3a"


def test_a_task_published_outside_a_request_carries_no_id(json_log: io.StringIO) -> None:
    headers: dict[str, Any] = {}
    copy_context().run(lambda: celery_signals.add_request_id(headers=headers))
    assert celery_signals.REQUEST_ID_HEADER not in headers


def test_the_worker_logs_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    """Celery calls `setup_logging` instead of configuring its own format: the worker's
    logs are settings.LOGGING's JSON lines."""
    from celery import signals

    receivers = [str(receiver) for receiver in signals.setup_logging.receivers]
    assert any("_json_logs" in receiver for receiver in receivers)
    signals.setup_logging.send(
        sender=None, loglevel="INFO", logfile=None, format="", colorize=False
    )
    root = logging.getLogger()
    assert any(isinstance(handler.formatter, JsonFormatter) for handler in root.handlers)


# --- Several processes of a node ---------------------------------------------------------


def _python(code: str, multiproc_dir: Path) -> str:
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc_dir),
        "DJANGO_SETTINGS_MODULE": "kaunti.settings",
        "DEBUG": "1",
        "CELERY_BROKER_URL": "",
    }
    done = subprocess.run(  # noqa: S603  (our own interpreter, our own code)
        [sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_metrics_of_several_processes_are_summed(tmp_path: Path) -> None:
    count = (
        "from kaunti.core.metrics.instruments import HTTP_REQUESTS;"
        "HTTP_REQUESTS.labels('healthz', 'GET', '200').inc({n})"
    )
    _python(count.format(n=2), tmp_path)
    _python(count.format(n=3), tmp_path)
    assert len(list(tmp_path.glob("counter_*.db"))) == 2
    exposition = _python(
        "from kaunti.core.metrics.exposition import render; print(render().decode())", tmp_path
    )
    line = 'kaunti_http_requests_total{method="GET",status="200",view="healthz"} 5.0'
    assert line in exposition
    # A restart removes the files of processes that are gone.
    assert len(processes.remove_files_of_dead_processes(str(tmp_path))) == 2
    assert not list(tmp_path.glob("*.db"))


def test_the_worker_and_gunicorn_share_one_directory_by_default() -> None:
    assert processes.DEFAULT_DIR == REPO / "var" / "prometheus"
    gunicorn_conf = (REPO / "gunicorn.conf.py").read_text()
    assert "use_multiprocess_dir()" in gunicorn_conf
    assert "def child_exit(server, worker)" in gunicorn_conf


def test_django_s_log_of_a_refused_request_carries_its_request_id(
    client: Client, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Django logs a 4xx after the middleware has finished: the id comes from the request."""
    settings.METRICS_TOKEN = TOKEN
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get("/metrics", HTTP_X_REQUEST_ID="req-401-check")
    assert response.status_code == 401
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    RequestIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-401-check"


def test_a_retried_task_run_eagerly_counts_both_runs_and_leaves_no_request_id() -> None:
    def run() -> None:
        request_id_var.set("-")
        _flaky.apply(headers={celery_signals.REQUEST_ID_HEADER: "req-retry"})
        assert request_id_var.get() == "-"

    copy_context().run(run)
    assert celery_signals._running == {}


def test_a_read_only_checkout_keeps_metrics_in_the_temporary_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout = tmp_path / "checkout" / "prometheus"
    real_access = os.access
    monkeypatch.setattr(
        processes.os,
        "access",
        lambda path, mode: False if Path(path) == checkout else real_access(path, mode),
    )
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.setattr(processes, "fallback_dir", lambda: tmp_path / "fallback")
    try:
        chosen = processes.use_multiprocess_dir(checkout)
    finally:
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    assert chosen == str(tmp_path / "fallback")
    assert (tmp_path / "fallback").is_dir()


@pytest.mark.django_db(transaction=True)
def test_audit_events_waiting_for_the_sequencer(client: Client, settings: Any) -> None:
    # With a broker, requests leave the sealing to the sequencer's scheduled task.
    settings.AUDIT_SEAL_ON_COMMIT = False
    record_event(actor=None, action="test.waiting", target_type="thing", target_id="1")
    samples = scrape(client, settings)
    assert value(samples, "kaunti_audit_unsealed_events") == 1
    assert value(samples, "kaunti_audit_oldest_unsealed_age_seconds") >= 0

    assert seal_pending_events() == 1
    samples = scrape(client, settings)
    assert value(samples, "kaunti_audit_unsealed_events") == 0
    assert value(samples, "kaunti_audit_oldest_unsealed_age_seconds") == 0
