"""With DEBUG off, a missing page and a crash show the site's own pages, never Django's
debug pages (which list every URL pattern, settings and a traceback)."""

from html import unescape
from unittest import mock

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

DEBUG_PAGE_MARKS = ("URLconf", "Traceback", "DEBUG = True", "technical_500", "Request Method")


@override_settings(DEBUG=False)
@pytest.mark.parametrize("path", ["/no-such-page/", "/verify/4KTXMWQ9HC3FA/extra", "/staff/x/"])
def test_an_unknown_address_shows_the_sites_own_404_page(client: Client, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 404
    text = unescape(response.content.decode())
    assert '<h1 class="govuk-heading-l">Page not found</h1>' in text
    assert "If you typed the web address, check it is correct." in text
    for mark in DEBUG_PAGE_MARKS:
        assert mark not in text


@override_settings(DEBUG=False)
def test_a_crash_shows_the_sites_own_500_page() -> None:
    client = Client(raise_request_exception=False)
    with mock.patch("kaunti.core.views.public_links", side_effect=RuntimeError("boom")):
        response = client.get("/")

    assert response.status_code == 500
    text = unescape(response.content.decode())
    assert '<h1 class="govuk-heading-l">Sorry, there is a problem with the service</h1>' in text
    assert "boom" not in text
    for mark in DEBUG_PAGE_MARKS:
        assert mark not in text
