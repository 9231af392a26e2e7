"""The public shell (home, error pages), the operations probes and staff's job progress page."""

import logging
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from kaunti import celery_app
from kaunti.core import permissions, selectors
from kaunti.core.apps import RUN_SCHEDULED_JOBS
from kaunti.core.forms import VerifyCodeForm
from kaunti.core.maintenance import open_during_maintenance
from kaunti.core.menu import public_links
from kaunti.core.models import Job, JobState
from kaunti.core.services import documents, scheduled

logger = logging.getLogger(__name__)

STAFF_SIGN_IN = "accounts:staff_sign_in"
ACTIVE_JOB_STATES = frozenset({JobState.QUEUED, JobState.RUNNING})


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", {"public_links": public_links()})


@open_during_maintenance
@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """The process is up and answering; checks nothing else."""
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_cache() -> None:
    cache.set("readyz", "1", 5)
    if cache.get("readyz") != "1":
        raise ConnectionError("cache did not return what was stored")


def _check_broker() -> None:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


class MigrationsPending(Exception):
    """This code has migrations the database has not applied."""


_migrations_applied = False


def _check_migrations() -> None:
    """Every migration of this code is applied. Once true it is remembered: it stays true
    until a new release, and a release restarts the process (ADR 22)."""
    global _migrations_applied
    if _migrations_applied:
        return
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise MigrationsPending("migrations not applied")
    _migrations_applied = True


@open_during_maintenance
@never_cache
@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    """Ready for traffic: the database answers with every migration applied, and Redis and
    the broker answer when configured."""
    checks = {"database": _check_database, "migrations": _check_migrations}
    if settings.REDIS_URL:
        checks["cache"] = _check_cache
    if settings.CELERY_BROKER_URL:
        checks["broker"] = _check_broker
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001  (any failure means not ready; it is reported)
            logger.warning("readiness check %s failed: %s", name, exc)
            results[name] = "pending" if isinstance(exc, MigrationsPending) else "unreachable"
    ready = all(value == "ok" for value in results.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": results},
        status=200 if ready else 503,
    )


def _job_context(request: HttpRequest, public_id: UUID) -> dict[str, Any]:
    job: Job | None = selectors.get_job(user=request.user, public_id=public_id)
    if job is None:
        raise Http404("no such job")
    return {"job": job, "is_active": job.state in ACTIVE_JOB_STATES}


@never_cache
@login_required(login_url=STAFF_SIGN_IN)
@require_GET
def job_progress(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """A long task's progress for staff, refreshed by htmx every 2 s while the job runs.

    Without JavaScript its Refresh link does the same; the page works either way.
    """
    return render(request, "core/job_progress.html", _job_context(request, public_id))


@never_cache
@require_GET
def job_progress_fragment(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Just the progress fragment of the job page, which htmx swaps in."""
    if not request.user.is_authenticated:
        page = reverse("core:job_progress", args=[public_id])
        sign_in = redirect_to_login(page, login_url=STAFF_SIGN_IN)
        if request.headers.get("HX-Request") == "true":
            # htmx would swap the sign-in page into the fragment: have it navigate instead.
            return HttpResponse(headers={"HX-Redirect": sign_in["Location"]})
        return sign_in
    return render(request, "core/_job_progress.html", _job_context(request, public_id))


def _api_problem(request: HttpRequest, *, status: int, title: str, detail: str) -> HttpResponse:
    """What the API's own refusals look like (RFC 9457), for those Django makes before a
    view is reached, e.g. a malformed id that no URL pattern matches."""
    return JsonResponse(
        {
            "type": "about:blank",
            "title": title,
            "status": status,
            "detail": detail,
            "instance": request.path,
        },
        status=status,
        content_type="application/problem+json",
    )


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return _api_problem(
            request, status=404, title="Not Found", detail=_("There is nothing at this address.")
        )
    return render(request, "404.html", status=404)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return _api_problem(
            request,
            status=403,
            title="Forbidden",
            detail=_("You do not have permission to perform this action."),
        )
    return render(request, "403.html", status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return _api_problem(
            request,
            status=500,
            title="Internal Server Error",
            detail=_("Sorry, there is a problem with the service. Try again later."),
        )
    # No request context: the page must render even when the database is down.
    return HttpResponse(loader.get_template("500.html").render({}), status=500)


@require_GET
def verify_start(request: HttpRequest) -> HttpResponse:
    """Where a person types the code from a paper receipt or permit, then sees /verify/<code>.

    A GET form: looking a code up changes nothing, and the page works without JavaScript.
    """
    if "code" not in request.GET:
        return render(request, "core/verify_start.html", {"form": VerifyCodeForm()})
    form = VerifyCodeForm(request.GET)
    if not form.is_valid():
        return render(request, "core/verify_start.html", {"form": form}, status=400)
    return redirect("verify", code=form.cleaned_data["code"])


@require_GET
def verify_document(request: HttpRequest, code: str) -> HttpResponse:
    """Public check of an issued document: valid, expired or revoked, and little else."""
    result = documents.verify(code=code)
    status = 404 if result.document is None else 200
    return render(request, "core/verify.html", {"result": result, "code": code}, status=status)


@never_cache
@login_required(login_url=STAFF_SIGN_IN)
@require_GET
def scheduled_jobs(request: HttpRequest) -> HttpResponse:
    """Every job in the beat schedule: how often it runs, its last run and outcome, its
    next run, and a button to run it now (ICT officers; ADR 18)."""
    permissions.check_staff(request.user, RUN_SCHEDULED_JOBS)
    return render(
        request,
        "core/scheduled_jobs.html",
        {"jobs": selectors.list_scheduled_jobs(), "recent": selectors.list_recent_runs()},
    )


@login_required(login_url=STAFF_SIGN_IN)
@require_POST
def run_scheduled_job(request: HttpRequest, entry_name: str) -> HttpResponse:
    """Queue one scheduled job now; the run records who asked, and so does the audit chain."""
    permissions.check_staff(request.user, RUN_SCHEDULED_JOBS)
    try:
        scheduled.run_now(entry_name=entry_name, actor=request.user)
    except scheduled.UnknownScheduledJob:
        raise Http404("no such scheduled job") from None
    messages.success(
        request,
        _("%(job)s is queued to run now.") % {"job": selectors.scheduled_job_label(entry_name)},
    )
    return redirect("core:scheduled_jobs")
