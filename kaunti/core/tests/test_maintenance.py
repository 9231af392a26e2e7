"""Maintenance mode as a visitor, a staff member, a monitor and an operator meet it (ADR 22).
Safaricom's callbacks during maintenance: kaunti/payments/tests/test_maintenance_callbacks.py."""

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils.module_loading import import_string

from kaunti.core import maintenance

pytestmark = pytest.mark.django_db

ENGLISH = "Kaunti is being upgraded"
KISWAHILI = "Kaunti inasasishwa"


@pytest.fixture(autouse=True)
def flag_file(tmp_path: Path, settings: Any) -> Path:
    """Each test keeps its own flag file (parallel workers must not see each other's)."""
    path = tmp_path / "maintenance.json"
    settings.MAINTENANCE_FLAG_FILE = str(path)
    return path


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("maintenance", *args, stdout=out)
    return out.getvalue()


def test_every_page_answers_503_in_both_languages_with_retry_after(client: Client) -> None:
    run("on")

    response = client.get("/")

    assert response.status_code == 503
    assert response["Retry-After"] == "600"
    assert response["Cache-Control"] == "no-store"
    page = response.content.decode()
    assert ENGLISH in page
    assert KISWAHILI in page
    assert "Malipo ya M-Pesa kwa paybill ya kaunti bado yanapokelewa" in page
    assert page.index(ENGLISH) < page.index(KISWAHILI)


def test_a_kiswahili_visitor_reads_kiswahili_first(client: Client) -> None:
    run("on")

    page = client.get("/", HTTP_ACCEPT_LANGUAGE="sw").content.decode()

    assert page.index(KISWAHILI) < page.index(ENGLISH)
    assert '<html lang="sw"' in page


def test_the_api_answers_a_problem_document_503(client: Client) -> None:
    run("on")

    response = client.get("/api/v1/services/")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == "600"
    assert response.json()["status"] == 503
    assert "upgraded" in response.json()["detail"]


def test_staff_cannot_sign_in_during_maintenance(client: Client, make_staff: Any) -> None:
    staff = make_staff(["ict_officer"], department="ict")
    password = import_string("kaunti.accounts.tests.factories.STAFF_PASSWORD")
    credentials = {"username": staff.username, "password": password}
    run("on")

    page = client.get(reverse("accounts:staff_sign_in"))
    posted = client.post(reverse("accounts:staff_sign_in"), credentials)

    assert (page.status_code, posted.status_code) == (503, 503)
    run("off")
    assert client.post(reverse("accounts:staff_sign_in"), credentials).status_code == 302


def test_health_checks_answer_during_maintenance(client: Client, settings: Any) -> None:
    settings.CELERY_BROKER_URL = ""
    run("on")

    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_the_upgrade_bypass_token_lets_its_smoke_checks_through(client: Client) -> None:
    state = maintenance.switch_on(reason="upgrade to v0.16", by="operator")

    with_token = client.get("/", HTTP_X_KAUNTI_MAINTENANCE_BYPASS=state.bypass_token)
    wrong_token = client.get("/", HTTP_X_KAUNTI_MAINTENANCE_BYPASS="guess")

    assert with_token.status_code == 200
    assert wrong_token.status_code == 503


def test_off_opens_the_site_again(client: Client, flag_file: Path) -> None:
    run("on")
    assert client.get("/").status_code == 503

    output = run("off")

    assert output == "Maintenance is OFF: the site is open.\n"
    assert client.get("/").status_code == 200
    assert not flag_file.exists()


def test_on_writes_the_flag_file_for_every_process_and_status_reports_it(
    flag_file: Path,
) -> None:
    assert run("status") == "Maintenance is OFF: the site is open.\n"

    run("on", "--reason", "disk replacement")

    stored = json.loads(flag_file.read_text())
    assert stored["reason"] == "disk replacement"
    assert oct(flag_file.stat().st_mode & 0o777) == "0o600"
    status = run("status")
    assert status.startswith(f"Maintenance is ON since {stored['since']} by ")
    assert status.endswith("(disk replacement).\n")


def test_on_twice_keeps_the_first_state(flag_file: Path) -> None:
    first = maintenance.switch_on(reason="first", by="a")

    second = maintenance.switch_on(reason="second", by="b")

    assert second == first


def test_a_flag_file_left_by_hand_means_maintenance(client: Client, flag_file: Path) -> None:
    flag_file.write_text("on")

    response = client.get("/")

    assert response.status_code == 503
    assert response["Retry-After"] == "600"


@pytest.mark.skipif(not django_settings.REDIS_URL, reason="needs Redis (REDIS_URL)")
def test_a_flag_set_by_another_node_in_redis_closes_this_one(
    client: Client, flag_file: Path
) -> None:
    """Another node switched maintenance on: only Redis holds the flag, not this node's file."""
    maintenance.switch_on(reason="upgrade on node 2", by="operator")
    flag_file.unlink()
    assert cache.get(maintenance.CACHE_KEY) is not None

    assert client.get("/").status_code == 503
    assert run("status").endswith("(upgrade on node 2).\n")

    run("off")
    assert cache.get(maintenance.CACHE_KEY) is None
    assert client.get("/").status_code == 200
