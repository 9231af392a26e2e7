"""The page shell: security headers, no inline code (CSP), the language switch, 404."""

import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.test import Client
from pytest_django.asserts import assertContains, assertRedirects

from kaunti.accounts.models import User

pytestmark = pytest.mark.django_db

PAGES = {
    "home": "/",
    "sign-up": "/account/sign-up/",
    "sign-in": "/account/sign-in/",
    "staff sign-in": "/staff/sign-in/",
    "not found": "/no-such-page/",
}


class _InlineCodeFinder(HTMLParser):
    """Collects what a strict Content-Security-Policy would block: inline scripts, inline
    styles (`<style>` and `style=`) and inline event handlers (`onclick=`...)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _value in attrs}
        if tag == "script" and not dict(attrs).get("src"):
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        if "style" in names:
            self.found.append(f"style= on <{tag}>")
        self.found.extend(f"{name}= on <{tag}>" for name in names if name.startswith("on"))


def inline_code(html: str) -> list[str]:
    finder = _InlineCodeFinder()
    finder.feed(html)
    return finder.found


@pytest.mark.parametrize(
    ("path", "status"),
    [
        *((path, 404 if name == "not found" else 200) for name, path in PAGES.items()),
        ("/account/", 302),
        ("/staff/", 302),
        ("/api/v1/me/", 401),
        ("/healthz", 200),
    ],
)
def test_every_response_carries_the_security_headers(
    client: Client, path: str, status: int
) -> None:
    response = client.get(path)

    assert response.status_code == status
    assert response["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "script-src 'self';" in response["Content-Security-Policy"]
    assert "style-src 'self';" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_request_id_from_the_proxy_is_kept_and_a_bad_one_replaced(client: Client) -> None:
    kept = client.get("/", headers={"X-Request-ID": "edge-7f3a.01"})
    replaced = client.get("/", headers={"X-Request-ID": "<script>alert(1)</script>"})

    assert kept["X-Request-ID"] == "edge-7f3a.01"
    assert re.fullmatch(r"[0-9a-f]{32}", replaced["X-Request-ID"])


@pytest.mark.parametrize("path", PAGES.values(), ids=PAGES.keys())
def test_pages_have_no_inline_scripts_or_styles(client: Client, path: str) -> None:
    response = client.get(path)

    html = response.content.decode()
    assert "<script" in html  # the shell's own script, from a file
    assert inline_code(html) == []


def test_pages_with_form_errors_have_no_inline_scripts_or_styles(client: Client) -> None:
    response = client.post("/account/sign-up/", {"full_name": "", "phone": "12"})

    assertContains(response, "There is a problem")
    assert inline_code(response.content.decode()) == []


def test_signed_in_pages_have_no_inline_scripts_or_styles(client: Client, citizen: User) -> None:
    client.force_login(citizen)

    response = client.get("/account/")

    assertContains(response, "My account")
    assert inline_code(response.content.decode()) == []


def test_missing_page_is_a_404_with_the_shell(client: Client) -> None:
    assert settings.DEBUG is False

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assertContains(response, '<h1 class="govuk-heading-l">Page not found</h1>', status_code=404)
    assertContains(response, '<html lang="en"', status_code=404)
    assertContains(response, 'href="/account/sign-in/"', status_code=404)


# --- The language switch -------------------------------------------------------------------


def test_language_switch_sets_the_cookie_and_the_next_page_is_in_kiswahili(
    client: Client,
) -> None:
    response = client.post("/language/", {"language": "sw", "next": "/account/sign-in/"})

    assertRedirects(response, "/account/sign-in/", fetch_redirect_response=False)
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "sw"
    assert cookie["samesite"] == "Lax"
    assert cookie["httponly"] is True
    assert cookie["max-age"] == 365 * 24 * 3600
    next_page = client.get("/account/sign-in/")
    assertContains(next_page, '<html lang="sw"')
    assertContains(
        next_page,
        '<span class="kaunti-language__current" aria-current="true" lang="sw">Kiswahili</span>',
        html=True,
    )


def test_language_switch_is_saved_on_the_account_and_follows_the_person(
    client: Client, citizen: User
) -> None:
    client.force_login(citizen)

    response = client.post("/language/", {"language": "sw", "next": "/account/"})

    assertRedirects(response, "/account/", fetch_redirect_response=False)
    citizen.refresh_from_db()
    assert citizen.preferred_language == "sw"
    assertContains(client.get("/account/"), '<html lang="sw"')
    # Another device, with no language cookie, shows the account's language.
    other_device = Client()
    other_device.force_login(citizen)
    assertContains(other_device.get("/account/"), '<html lang="sw"')


def test_language_switch_refuses_an_unknown_language(client: Client, citizen: User) -> None:
    client.force_login(citizen)

    response = client.post("/language/", {"language": "fr", "next": "/account/"})

    assertRedirects(response, "/account/", fetch_redirect_response=False)
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    citizen.refresh_from_db()
    assert citizen.preferred_language == "en"
    assertContains(client.get("/account/"), '<html lang="en"')


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "/\\evil.example/phish",
        "http://testserver.evil.example/",
        "javascript:alert(1)",
    ],
)
def test_language_switch_never_redirects_off_site(client: Client, next_url: str) -> None:
    response = client.post("/language/", {"language": "sw", "next": next_url})

    assertRedirects(response, "/", fetch_redirect_response=False)
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "sw"
