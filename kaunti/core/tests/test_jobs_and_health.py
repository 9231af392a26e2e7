"""Background job progress, and the health and readiness probes."""

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.test import Client

from kaunti.core.models import Job, JobState
from kaunti.core.services.jobs import advance_job, create_job, fail_job, finish_job, start_job

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"
NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"


def progress(job: Job) -> tuple[str, int, int, int]:
    job.refresh_from_db()
    return job.state, job.done, job.total, job.percent


# --- Jobs ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_new_job_is_queued_with_nothing_done() -> None:
    job = create_job(
        kind="land.valuation_import",
        description="Import the 2026 valuation roll",
        started_by=AnonymousUser(),
    )

    assert progress(job) == (JobState.QUEUED, 0, 0, 0)
    assert (job.kind, job.description, job.started_by) == (
        "land.valuation_import",
        "Import the 2026 valuation roll",
        None,
    )
    assert job.started_at is None
    assert job.finished_at is None


@pytest.mark.django_db
def test_a_job_remembers_who_started_it(citizen: Any) -> None:
    job = create_job(kind="accounts.export_my_data", started_by=citizen)

    job.refresh_from_db()
    assert job.started_by == citizen


@pytest.mark.django_db
def test_progress_counts_up_to_the_total_and_never_past_it() -> None:
    job = create_job(kind="land.valuation_import")

    start_job(job=job, total=8)
    assert progress(job) == (JobState.RUNNING, 0, 8, 0)
    assert job.started_at is not None

    advance_job(job=job, by=3)
    assert progress(job) == (JobState.RUNNING, 3, 8, 37)

    advance_job(job=job)
    assert progress(job) == (JobState.RUNNING, 4, 8, 50)

    advance_job(job=job, by=10)
    assert progress(job) == (JobState.RUNNING, 8, 8, 100)


@pytest.mark.django_db
def test_finishing_a_job_fills_the_bar() -> None:
    job = create_job(kind="land.valuation_import")
    start_job(job=job, total=5)
    advance_job(job=job, by=2)

    finish_job(job=job)

    assert progress(job) == (JobState.SUCCEEDED, 5, 5, 100)
    assert job.finished_at is not None


@pytest.mark.django_db
def test_a_finished_job_that_had_nothing_to_do_shows_full() -> None:
    job = create_job(kind="payments.reconcile")
    start_job(job=job, total=0)

    finish_job(job=job)

    assert progress(job) == (JobState.SUCCEEDED, 0, 0, 100)


@pytest.mark.django_db
def test_a_failed_job_keeps_how_far_it_got_and_the_error() -> None:
    job = create_job(kind="land.valuation_import")
    start_job(job=job, total=10)
    advance_job(job=job, by=4)

    fail_job(job=job, error="Row 5: " + "x" * 5000)

    assert progress(job) == (JobState.FAILED, 4, 10, 40)
    assert job.error == ("Row 5: " + "x" * 5000)[:4000]
    assert len(job.error) == 4000
    assert job.finished_at is not None


@pytest.mark.django_db
def test_a_restarted_job_keeps_what_it_had_done_and_clears_the_error() -> None:
    job = create_job(kind="land.valuation_import")
    start_job(job=job, total=10)
    advance_job(job=job, by=3)
    fail_job(job=job, error="The valuation server went away.")

    start_job(job=job, total=10)

    assert progress(job) == (JobState.RUNNING, 3, 10, 30)
    assert job.error == ""


@pytest.mark.django_db
def test_a_restart_with_a_smaller_total_keeps_done_within_it() -> None:
    job = create_job(kind="land.valuation_import")
    start_job(job=job, total=10)
    advance_job(job=job, by=7)

    start_job(job=job, total=5)

    assert progress(job) == (JobState.RUNNING, 5, 5, 100)


@pytest.mark.django_db
def test_the_database_refuses_a_job_done_beyond_its_total() -> None:
    job = create_job(kind="land.valuation_import")
    start_job(job=job, total=8)
    advance_job(job=job, by=2)

    with pytest.raises(IntegrityError), transaction.atomic():
        Job.objects.filter(pk=job.pk).update(done=9)

    assert progress(job) == (JobState.RUNNING, 2, 8, 25)


# --- Probes -------------------------------------------------------------------------------


def test_healthz_answers_ok_without_caching(client: Client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == NEVER_CACHE


@pytest.mark.django_db
def test_readyz_is_ready_when_the_database_answers(client: Client, settings: Any) -> None:
    # The cache is checked only when Redis is configured (it is on the PostgreSQL CI run).
    expected = {"database": "ok", "migrations": "ok"} | (
        {"cache": "ok"} if settings.REDIS_URL else {}
    )
    settings.CELERY_BROKER_URL = ""

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": expected}
    assert response["Cache-Control"] == NEVER_CACHE


@pytest.mark.django_db
def test_readyz_is_unavailable_when_redis_cannot_be_reached(client: Client, settings: Any) -> None:
    settings.REDIS_URL = UNREACHABLE_REDIS
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": UNREACHABLE_REDIS,
        }
    }
    settings.CELERY_BROKER_URL = ""

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "migrations": "ok", "cache": "unreachable"},
    }
