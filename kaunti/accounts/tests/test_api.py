"""The HTTP API: who am I, tokens, problem-details errors, the schema and its docs page."""

import re
from collections.abc import Callable
from html.parser import HTMLParser
from importlib import import_module
from io import StringIO

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.throttling import AnonRateThrottle

from kaunti.accounts.authentication import token_digest
from kaunti.accounts.models import ApiToken, Role, User
from kaunti.core.models import AuditEvent

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
PROBLEM = "application/problem+json"

MakeStaff = Callable[..., User]


def issue_token(username: str) -> str:
    out = StringIO()
    call_command("issue_api_token", username, stdout=out)
    key = out.getvalue().strip()
    assert re.fullmatch(r"[0-9a-f]{40}", key), key
    return key


def with_token(key: str) -> dict[str, str]:
    return {"Authorization": f"Token {key}"}


def test_me_without_credentials_is_a_401_problem(client: Client) -> None:
    response = client.get(ME)

    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {
        "type": "about:blank",
        "title": "Unauthorized",
        "status": 401,
        "detail": "Authentication credentials were not provided.",
        "instance": ME,
    }


def test_me_with_a_token_names_the_user_and_their_roles(
    client: Client, make_staff: MakeStaff
) -> None:
    cashier = make_staff([Role.CASHIER, Role.REVENUE_OFFICER], department="revenue")
    key = issue_token(cashier.username)

    response = client.get(ME, headers=with_token(key))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "public_id": str(cashier.public_id),
        "username": "staff1",
        "kind": "staff",
        "full_name": "Staff Member 1",
        "phone": None,
        "email": "",
        "preferred_language": "en",
        "roles": [
            {"department": "revenue", "role": "cashier"},
            {"department": "revenue", "role": "revenue_officer"},
        ],
    }
    assert (
        AuditEvent.objects.filter(
            action="accounts.api_token_issued", target_id=str(cashier.pk)
        ).count()
        == 1
    )


def test_a_new_token_makes_the_old_one_stop_working(client: Client, make_staff: MakeStaff) -> None:
    cashier = make_staff([Role.CASHIER])
    old_key = issue_token(cashier.username)

    new_key = issue_token(cashier.username)

    assert new_key != old_key
    assert list(ApiToken.objects.values_list("digest", flat=True)) == [token_digest(new_key)]
    refused = client.get(ME, headers=with_token(old_key))
    assert refused.status_code == 401
    assert refused["Content-Type"] == PROBLEM
    assert refused.json() == {
        "type": "about:blank",
        "title": "Unauthorized",
        "status": 401,
        "detail": "Invalid token.",
        "instance": ME,
    }
    assert client.get(ME, headers=with_token(new_key)).json()["username"] == cashier.username


def test_no_token_is_issued_for_an_unknown_or_inactive_user(make_staff: MakeStaff) -> None:
    former = make_staff([Role.CASHIER])
    former.is_active = False
    former.save()

    for username in ("nobody", former.username):
        with pytest.raises(CommandError, match=f"No active user '{username}'"):
            issue_token(username)
    assert ApiToken.objects.count() == 0
    assert not AuditEvent.objects.filter(action="accounts.api_token_issued").exists()


def test_the_database_keeps_no_key_that_works(client: Client, make_staff: MakeStaff) -> None:
    cashier = make_staff([Role.CASHIER])
    key = issue_token(cashier.username)

    stored = ApiToken.objects.get(user=cashier)

    assert key not in (stored.digest, str(stored.pk))
    assert not Token.objects.exists()  # DRF's table of plain keys stays empty
    assert client.get(ME, headers=with_token(stored.digest)).status_code == 401
    assert client.get(ME, headers=with_token(key)).json()["username"] == cashier.username


def test_a_token_stops_working_when_its_user_is_deactivated(
    client: Client, make_staff: MakeStaff
) -> None:
    cashier = make_staff([Role.CASHIER])
    key = issue_token(cashier.username)
    cashier.is_active = False
    cashier.save()

    refused = client.get(ME, headers=with_token(key))

    assert refused.status_code == 401
    assert refused.json()["detail"] == "User inactive or deleted."


def test_keys_stored_in_plain_before_0004_keep_working_as_digests(
    client: Client, make_staff: MakeStaff
) -> None:
    cashier = make_staff([Role.CASHIER])
    plain = Token.objects.create(user=cashier)  # as `issue_api_token` kept them before

    migration = import_module("kaunti.accounts.migrations.0004_api_token_digests")
    migration.digest_plain_keys(django_apps, None)

    assert not Token.objects.exists()
    assert ApiToken.objects.get(user=cashier).digest == token_digest(plain.key)
    assert client.get(ME, headers=with_token(plain.key)).json()["username"] == cashier.username


def test_schema_is_openapi_3_and_describes_me(client: Client) -> None:
    response = client.get("/api/schema/")

    assert response.status_code == 200
    text = response.content.decode()
    assert text.startswith("openapi: 3"), text[:100]
    assert "\n  /api/v1/me/:\n" in text
    assert "title: Kaunti API" in text


class _ScriptFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inline_scripts = 0
        self.script_sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            source = dict(attrs).get("src")
            if source:
                self.script_sources.append(source)
            else:
                self.inline_scripts += 1


def test_api_docs_page_loads_without_inline_scripts(client: Client) -> None:
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
    finder = _ScriptFinder()
    finder.feed(response.content.decode())
    assert finder.inline_scripts == 0
    assert len(finder.script_sources) == 3
    assert all(source.startswith("/") for source in finder.script_sources)
    # The page's own script is served by the view itself, from our origin.
    assert "/api/docs/?script=" in finder.script_sources


def test_anonymous_callers_are_throttled_with_a_429_problem(
    client: Client, monkeypatch: pytest.MonkeyPatch, reference_data: None
) -> None:
    # DRF reads the rates into the class when it is imported; patch the class, not settings.
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/minute"})

    answers = [client.get("/api/v1/departments/") for _call in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    throttled = answers[2]
    assert throttled["Content-Type"] == PROBLEM
    assert throttled["Retry-After"] == "60"
    assert throttled.json() == {
        "type": "about:blank",
        "title": "Too Many Requests",
        "status": 429,
        "detail": "Request was throttled. Expected available in 60 seconds.",
        "instance": "/api/v1/departments/",
        "retry_after": 60,
    }
