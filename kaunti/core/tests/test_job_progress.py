"""Staff's job progress page, its htmx fragment and its API: who may see them, and what they show."""

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from pytest_django.asserts import assertContains, assertNotContains

from kaunti.core.models import Job
from kaunti.core.permissions import PermissionRegistry
from kaunti.core.services.jobs import advance_job, create_job, fail_job, finish_job, start_job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_permissions")]

DESCRIPTION = "Import the 2026 valuation roll"
SignIn = Callable[[Client, Any], None]


@pytest.fixture
def job() -> Job:
    job = create_job(kind="land.valuation_import", description=DESCRIPTION)
    start_job(job=job, total=40)
    advance_job(job=job, by=10)
    job.refresh_from_db()
    return job


def page_url(public_id: uuid.UUID) -> str:
    return f"/staff/jobs/{public_id}/"


def fragment_url(public_id: uuid.UUID) -> str:
    return f"/staff/jobs/{public_id}/progress/"


def api_url(public_id: uuid.UUID) -> str:
    return f"/api/v1/jobs/{public_id}/"


@pytest.fixture
def ict_officer_client(
    client: Client, make_staff: Callable[..., Any], sign_in_staff: SignIn
) -> Client:
    sign_in_staff(client, make_staff(["ict_officer"], department="ict"))
    return client


# --- Who may see it -----------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_staff_sign_in(client: Client, job: Job) -> None:
    page = page_url(job.public_id)

    for url in (page, fragment_url(job.public_id)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"/staff/sign-in/?next={page}"


def test_an_anonymous_htmx_poll_navigates_to_sign_in_instead_of_swapping(
    client: Client, job: Job
) -> None:
    response = client.get(fragment_url(job.public_id), headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/staff/sign-in/?next={page_url(job.public_id)}"
    assert response.content == b""


def test_the_api_asks_anonymous_callers_to_authenticate(client: Client, job: Job) -> None:
    response = client.get(api_url(job.public_id))

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"] == "Token"
    assert DESCRIPTION not in response.content.decode()


def assert_refused_everywhere(client: Client, job: Job) -> None:
    for url in (page_url(job.public_id), fragment_url(job.public_id)):
        response = client.get(url)
        assert response.status_code == 403, url
        assertContains(response, "You cannot see this page", status_code=403)
        assert DESCRIPTION not in response.content.decode()
    response = client.get(api_url(job.public_id))
    assert response.status_code == 403
    assert response.json() == {
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403,
        "instance": api_url(job.public_id),
    }


def test_a_citizen_is_refused(client: Client, citizen: Any, job: Job) -> None:
    client.force_login(citizen)

    assert_refused_everywhere(client, job)


@pytest.mark.parametrize("role", ["cashier", "revenue_officer", "auditor"])
def test_staff_without_a_role_that_watches_jobs_are_refused(
    client: Client, make_staff: Callable[..., Any], sign_in_staff: SignIn, job: Job, role: str
) -> None:
    sign_in_staff(client, make_staff([role]))

    assert_refused_everywhere(client, job)


def test_staff_with_the_role_but_no_second_factor_are_refused(
    client: Client, make_staff: Callable[..., Any], job: Job
) -> None:
    client.force_login(make_staff(["ict_officer"], department="ict"))

    assert_refused_everywhere(client, job)


def test_without_a_job_watching_role_an_unknown_job_is_refused_not_missing(
    client: Client, make_staff: Callable[..., Any], sign_in_staff: SignIn
) -> None:
    sign_in_staff(client, make_staff(["cashier"]))

    response = client.get(page_url(uuid.uuid4()))

    assert response.status_code == 403


@pytest.mark.parametrize("role", ["ict_officer", "supervisor"])
def test_staff_who_watch_jobs_see_the_page(
    client: Client, make_staff: Callable[..., Any], sign_in_staff: SignIn, job: Job, role: str
) -> None:
    sign_in_staff(client, make_staff([role]))

    response = client.get(page_url(job.public_id))

    assert response.status_code == 200
    assertContains(response, DESCRIPTION)
    assertContains(response, "10 of 40")


def test_an_unknown_job_is_not_found(ict_officer_client: Client) -> None:
    missing = uuid.uuid4()

    assert ict_officer_client.get(page_url(missing)).status_code == 404
    assert ict_officer_client.get(fragment_url(missing)).status_code == 404
    response = ict_officer_client.get(api_url(missing))
    assert response.status_code == 404
    assert response.json()["detail"] == "There is no job with this id."


# --- What it shows ------------------------------------------------------------------------


def test_a_running_job_polls_its_fragment_every_two_seconds(
    ict_officer_client: Client, job: Job
) -> None:
    response = ict_officer_client.get(page_url(job.public_id))

    fragment = fragment_url(job.public_id)
    assertContains(
        response,
        f'<div id="job-progress" hx-get="{fragment}" hx-trigger="every 2s" hx-swap="outerHTML">',
    )
    assertContains(
        response,
        '<progress id="job-progress-bar" class="kaunti-progress" max="100" value="25">'
        "25% done</progress>",
        html=True,
    )
    assertContains(response, '<label class="govuk-label" for="job-progress-bar">Progress</label>')
    assertContains(response, "Running")
    assertContains(response, f'<a class="govuk-link" href="{page_url(job.public_id)}">Refresh</a>')
    assertContains(response, '<script src="/static/build/htmx.min.js"></script>', html=True)
    assertContains(response, '<script src="/static/core/htmx-settings.js"></script>', html=True)
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"


def test_the_fragment_is_only_the_progress(ict_officer_client: Client, job: Job) -> None:
    advance_job(job=job, by=20)

    response = ict_officer_client.get(fragment_url(job.public_id), headers={"HX-Request": "true"})

    content = response.content.decode()
    assert response.status_code == 200
    assert content.lstrip().startswith('<div id="job-progress"')
    assert "<html" not in content
    assertContains(response, "30 of 40")
    assertContains(response, 'value="75"')


def test_a_finished_job_stops_polling(ict_officer_client: Client, job: Job) -> None:
    finish_job(job=job)

    response = ict_officer_client.get(page_url(job.public_id))

    assertContains(response, '<div id="job-progress">')
    assertNotContains(response, "hx-trigger")
    assertNotContains(response, "Refresh")
    assertContains(response, "40 of 40")
    assertContains(response, "Finished")


def test_a_failed_job_shows_what_went_wrong(ict_officer_client: Client, job: Job) -> None:
    fail_job(job=job, error="Row 11: the parcel number is missing.")

    response = ict_officer_client.get(page_url(job.public_id))

    assertContains(response, "What went wrong")
    assertContains(response, "Row 11: the parcel number is missing.")
    assertNotContains(response, "hx-trigger")


def test_the_api_gives_the_numbers(ict_officer_client: Client, job: Job) -> None:
    response = ict_officer_client.get(api_url(job.public_id))

    assert response.status_code == 200
    assert response.json() == {
        "public_id": str(job.public_id),
        "kind": "land.valuation_import",
        "description": DESCRIPTION,
        "state": "running",
        "done": 10,
        "total": 40,
        "percent": 25,
        "error": "",
    }


# --- The permission hook ------------------------------------------------------------------


def test_with_no_checker_registered_every_check_is_denied(citizen: Any) -> None:
    registry = PermissionRegistry()

    with pytest.raises(PermissionDenied):
        registry.check(citizen, "core.view_jobs")


def test_a_registered_checker_decides(citizen: Any) -> None:
    registry = PermissionRegistry()

    def only_jobs(user: Any, action: str) -> bool:
        return action == "core.view_jobs"

    registry.register(only_jobs)
    registry.register(only_jobs)

    registry.check(citizen, "core.view_jobs")
    with pytest.raises(PermissionDenied):
        registry.check(citizen, "core.view_audit")
    registry.unregister(only_jobs)
    assert registry.is_registered(only_jobs) is False
    with pytest.raises(PermissionDenied):
        registry.check(citizen, "core.view_jobs")
