"""/metrics: the latest rates billing run's progress, from its job."""

from typing import Any

import pytest
from django.test import Client

from kaunti.core.models import Job
from kaunti.core.services import jobs
from kaunti.core.tests.scrape import scrape, value
from kaunti.land.selectors.billing import BILLING_JOB_KIND

pytestmark = pytest.mark.django_db


def test_no_billing_figures_before_the_first_run(client: Client, settings: Any) -> None:
    samples = scrape(client, settings)
    assert not any(name.startswith("kaunti_land_billing") for name, _ in samples)
    assert value(samples, "kaunti_figures_source_up", source="land") == 1


def test_the_latest_runs_progress_and_state(client: Client, settings: Any) -> None:
    earlier = jobs.create_job(kind=BILLING_JOB_KIND)
    jobs.start_job(job=earlier, total=10)
    jobs.finish_job(job=earlier)
    jobs.create_job(kind="core.something_else", total=99)
    job: Job = jobs.create_job(kind=BILLING_JOB_KIND)
    jobs.start_job(job=job, total=1200)
    jobs.advance_job(job=job, by=300)

    samples = scrape(client, settings)
    assert value(samples, "kaunti_land_billing_run_done") == 300
    assert value(samples, "kaunti_land_billing_run_total") == 1200
    assert value(samples, "kaunti_land_billing_run_state", state="running") == 1
    assert value(samples, "kaunti_land_billing_run_state", state="succeeded") == 0

    jobs.finish_job(job=job)
    samples = scrape(client, settings)
    assert value(samples, "kaunti_land_billing_run_done") == 1200
    assert value(samples, "kaunti_land_billing_run_state", state="succeeded") == 1
    assert value(samples, "kaunti_land_billing_run_state", state="running") == 0
