"""Runs of scheduled jobs: recorded from Celery's signals, run by hand, pruned, and the
staff page that lists the beat schedule with each job's last and next run (ADR 18)."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from celery import shared_task
from django.test import Client
from django.utils import timezone, translation
from pytest_django.asserts import assertContains

from kaunti.core import selectors
from kaunti.core.models import AuditEvent, RunOutcome, ScheduledJobRun
from kaunti.core.schedule_words import entry_label
from kaunti.core.services import scheduled
from kaunti.core.tasks import prune_scheduled_job_runs, send_notifications

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_permissions")]

PAGE = "/staff/operations/jobs/"
PRUNE = "prune-scheduled-job-runs"
FAILING_TASK = "kaunti.core.tests.test_scheduled_jobs.failing_job"
SignIn = Callable[[Client, Any], None]


@shared_task(name=FAILING_TASK)
def failing_job() -> None:
    raise RuntimeError("the gateway did not answer")


def run_url(entry: str) -> str:
    return f"/staff/operations/jobs/{entry}/run/"


def old_run(entry: str, *, days: int, by_hand: bool = False) -> ScheduledJobRun:
    started = timezone.now() - timedelta(days=days)
    return ScheduledJobRun.objects.create(
        task_id=f"t-{entry}-{days}-{by_hand}",
        task_name="kaunti.core.tasks.prune_scheduled_job_runs",
        entry_name=entry,
        outcome=RunOutcome.SUCCESS,
        result="0",
        by_hand=by_hand,
        started_at=started,
        finished_at=started + timedelta(seconds=1),
    )


@pytest.fixture
def ict_officer(make_staff: Callable[..., Any]) -> Any:
    return make_staff(["ict_officer"], department="ict")


@pytest.fixture
def ict_client(client: Client, ict_officer: Any, sign_in_staff: SignIn) -> Client:
    sign_in_staff(client, ict_officer)
    return client


# --- What the signals record ------------------------------------------------------------


def test_a_run_by_the_schedule_is_recorded_with_its_outcome_and_host() -> None:
    prune_scheduled_job_runs.apply()

    run = ScheduledJobRun.objects.get()
    assert (run.entry_name, run.task_name) == (PRUNE, "kaunti.core.tasks.prune_scheduled_job_runs")
    assert (run.outcome, run.result, run.by_hand, run.requested_by) == ("success", "0", False, None)
    assert run.hostname
    assert run.finished_at is not None
    assert run.finished_at >= run.started_at


def test_a_task_outside_the_schedule_leaves_no_record() -> None:
    send_notifications.apply(args=[[]])

    assert not ScheduledJobRun.objects.exists()


def test_a_failed_run_keeps_the_error(
    settings: Any, ict_officer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.CELERY_BEAT_SCHEDULE = {"flaky": {"task": FAILING_TASK, "schedule": 60.0}}

    with django_capture_on_commit_callbacks(execute=True):
        scheduled.run_now(entry_name="flaky", actor=ict_officer)

    run = ScheduledJobRun.objects.get()
    assert run.outcome == RunOutcome.FAILURE
    assert run.result == "RuntimeError: the gateway did not answer"
    assert (run.by_hand, run.requested_by) == (True, ict_officer)


def test_running_an_unknown_entry_is_refused(ict_officer: Any) -> None:
    with pytest.raises(scheduled.UnknownScheduledJob):
        scheduled.run_now(entry_name="no-such-job", actor=ict_officer)
    assert not ScheduledJobRun.objects.exists()


def test_pruning_keeps_the_last_thirty_days() -> None:
    kept = old_run(PRUNE, days=29)
    old_run(PRUNE, days=31)
    old_run("escalate-overdue-complaints", days=40, by_hand=True)

    assert scheduled.prune_runs() == 2
    assert list(ScheduledJobRun.objects.all()) == [kept]


def test_pruning_keeps_only_the_newest_runs_of_a_frequent_job() -> None:
    seal = "seal-audit-events"
    for days in range(5):
        old_run(seal, days=days)
    other = old_run(PRUNE, days=4)

    assert scheduled.prune_runs(keep_per_entry=3) == 2
    kept = ScheduledJobRun.objects.filter(entry_name=seal).order_by("started_at")
    assert [(timezone.now() - run.started_at).days for run in kept] == [2, 1, 0]
    assert ScheduledJobRun.objects.filter(pk=other.pk).exists()


# --- What the selectors read ----------------------------------------------------------


def test_every_entry_of_the_schedule_is_listed_with_its_next_run(settings: Any) -> None:
    last = old_run("query-unanswered-stk-prompts", days=0)
    by_hand = old_run("query-unanswered-stk-prompts", days=0, by_hand=True)
    ScheduledJobRun.objects.filter(pk=by_hand.pk).update(
        started_at=last.started_at + timedelta(seconds=5)
    )

    jobs = {job.name: job for job in selectors.list_scheduled_jobs()}

    assert list(jobs) == list(settings.CELERY_BEAT_SCHEDULE)
    stk = jobs["query-unanswered-stk-prompts"]
    assert stk.label == "Ask M-Pesa about unanswered payment prompts"
    assert stk.schedule == "Every 30 seconds"
    assert stk.last_run is not None
    assert stk.last_run.pk == by_hand.pk
    # The next run counts from the last run by the schedule; a run by hand does not move it.
    assert abs(stk.next_run - (last.started_at + timedelta(seconds=30))) <= timedelta(seconds=1)
    penalties = jobs["charge-monthly-land-penalties"]
    assert penalties.schedule == "Monthly on day 1 at 02:30"
    assert penalties.last_run is None
    next_local = timezone.localtime(penalties.next_run)
    assert (next_local.day, next_local.hour, next_local.minute) == (1, 2, 30)
    assert timezone.now() < penalties.next_run <= timezone.now() + timedelta(days=31)


def test_the_monthly_penalties_and_the_pruning_are_in_the_schedule(settings: Any) -> None:
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "kaunti.land.tasks.apply_monthly_penalties_task" in tasks
    assert "kaunti.core.tasks.prune_scheduled_job_runs" in tasks


# --- The staff page -----------------------------------------------------------------------


def test_an_ict_officer_sees_every_scheduled_job_and_its_last_run(ict_client: Client) -> None:
    old_run(PRUNE, days=1)

    response = ict_client.get(PAGE)

    assert response.status_code == 200
    assertContains(response, "Ask M-Pesa about unanswered payment prompts")
    assertContains(response, "Charge the month&#x27;s land rates penalties")
    assertContains(response, "Monthly on day 1 at 02:30")
    assertContains(response, "Every 15 minutes")
    assertContains(response, "Succeeded")
    when = timezone.localtime(timezone.now() - timedelta(days=1))
    assertContains(response, f"{when.day} {when:%B %Y}")
    assertContains(response, run_url(PRUNE))


def test_the_page_reads_in_kiswahili(ict_client: Client) -> None:
    old_run(PRUNE, days=1)
    ict_client.post("/language/", {"language": "sw", "next": PAGE})

    response = ict_client.get(PAGE)

    assertContains(response, "Kazi zilizopangwa")
    assertContains(response, "Uliza M-Pesa kuhusu maombi ya malipo yasiyojibiwa")
    assertContains(response, "Kila sekunde 30")
    assertContains(response, "Kila mwezi tarehe 1 saa 02:30")
    assertContains(response, "Imefaulu")


def test_run_now_queues_the_job_records_who_asked_and_audits_it(
    ict_client: Client, ict_officer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = ict_client.post(run_url(PRUNE))

    assert (response.status_code, response["Location"]) == (302, PAGE)
    run = ScheduledJobRun.objects.get()
    # Tasks run in place in tests (no broker): the run is already done.
    assert (run.entry_name, run.outcome, run.by_hand, run.requested_by) == (
        PRUNE,
        RunOutcome.SUCCESS,
        True,
        ict_officer,
    )
    assert run.task_id.startswith("byhand-")
    event = AuditEvent.objects.get(action="core.scheduled_job_run_now")
    assert (event.actor_id, event.target_id, event.data["entry"]) == (
        ict_officer.pk,
        str(run.pk),
        PRUNE,
    )
    page = ict_client.get(PAGE)
    assertContains(page, "queued to run now")


def test_run_now_of_an_unknown_job_is_not_found(ict_client: Client) -> None:
    assert ict_client.post(run_url("no-such-job")).status_code == 404
    assert not AuditEvent.objects.filter(action="core.scheduled_job_run_now").exists()


def test_run_now_needs_the_csrf_token(
    make_staff: Callable[..., Any], ict_officer: Any, sign_in_staff: SignIn
) -> None:
    client = Client(enforce_csrf_checks=True)
    sign_in_staff_with_csrf(client, ict_officer, sign_in_staff, make_staff)
    assert client.post(run_url(PRUNE)).status_code == 403
    assert not ScheduledJobRun.objects.exists()


def sign_in_staff_with_csrf(client: Client, user: Any, sign_in: SignIn, make_staff: Any) -> None:
    # The sign-in pages need the token too: take the session from a client that skips it.
    plain = Client()
    sign_in(plain, user)
    client.cookies.update(plain.cookies)


def test_the_administrator_may_run_a_job(
    client: Client, make_staff: Callable[..., Any], sign_in_staff: SignIn
) -> None:
    sign_in_staff(client, make_staff([], department="ict", superuser=True))
    assert client.get(PAGE).status_code == 200
    assert client.post(run_url(PRUNE)).status_code == 302


@pytest.mark.parametrize("who", ["anonymous", "citizen", "revenue_officer", "supervisor"])
def test_others_may_neither_see_nor_run_the_jobs(
    client: Client, make_staff: Callable[..., Any], citizen: Any, sign_in_staff: SignIn, who: str
) -> None:
    if who == "citizen":
        client.force_login(citizen)
    elif who != "anonymous":
        sign_in_staff(client, make_staff([who]))

    page = client.get(PAGE)
    run = client.post(run_url(PRUNE))

    if who == "anonymous":
        assert page.status_code == run.status_code == 302
        assert page["Location"] == f"/staff/sign-in/?next={PAGE}"
    else:
        assert page.status_code == run.status_code == 403
    assert not ScheduledJobRun.objects.exists()
    assert not AuditEvent.objects.filter(action="core.scheduled_job_run_now").exists()


def test_the_staff_home_links_the_page_for_ict_officers_only(
    client: Client, ict_client: Client, make_staff: Callable[..., Any], sign_in_staff: SignIn
) -> None:
    assertContains(ict_client.get("/staff/"), PAGE)
    sign_in_staff(client, make_staff(["revenue_officer"]))
    assert PAGE not in client.get("/staff/").content.decode()


def test_every_entry_of_the_schedule_has_a_name_in_both_languages(settings: Any) -> None:
    for name in settings.CELERY_BEAT_SCHEDULE:
        english = entry_label(name)
        assert english != name, f"{name} has no name in words"
        with translation.override("sw"):
            assert entry_label(name) != english, f"{name} has no Kiswahili name"
