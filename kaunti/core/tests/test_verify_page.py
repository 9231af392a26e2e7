"""/verify/: where a person types the code from a paper receipt or permit."""

from datetime import datetime
from html import unescape
from typing import TYPE_CHECKING

import pytest
from django.test import Client
from django.utils import timezone

from kaunti.core.services.documents import register_document

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

CODE = "4KTXMWQ9HC3FA"
MALFORMED = (
    "A verification code has 13 letters and numbers, such as 4KTXMWQ9HC3FA: "
    "check what you typed against the document"
)


def page(response: "Response") -> str:
    return unescape(response.content.decode())


def test_the_page_asks_for_the_code_without_an_error(client: Client) -> None:
    response = client.get("/verify/")

    assert response.status_code == 200
    text = page(response)
    assert '<label class="govuk-label" for="id_code">Verification code</label>' in text
    assert 'form method="get" action="/verify/"' in text
    assert "There is a problem" not in text


def test_the_page_is_in_kiswahili(client: Client) -> None:
    text = page(client.get("/verify/", HTTP_ACCEPT_LANGUAGE="sw"))

    assert "Nambari ya uhakiki" in text
    assert "Hakiki hati" in text


def test_a_typed_code_goes_to_its_verification_page_in_capitals_without_spaces(
    client: Client,
) -> None:
    response = client.get("/verify/", {"code": " 4ktx mwq9-hc3f a "})

    assert response.status_code == 302
    assert response["Location"] == f"/verify/{CODE}"


def test_a_genuine_document_is_shown_valid_after_typing_its_code(client: Client) -> None:
    register_document(
        kind="receipt",
        number="RCT-018-000042",
        holder_name="Wanjiru Kamau",
        issued_at=timezone.make_aware(datetime(2026, 11, 3, 10, 0)),
        source_type="test",
        source_ref="42",
        verification_code=CODE,
    )

    response = client.get("/verify/", {"code": CODE.lower()}, follow=True)

    assert response.redirect_chain == [(f"/verify/{CODE}", 302)]
    text = page(response)
    assert "Valid" in text
    assert "Receipt RCT-018-000042" in text
    assert "Wanjiru Kamau" in text


def test_an_empty_code_is_refused_with_a_clear_error(client: Client) -> None:
    response = client.get("/verify/", {"code": "   "})

    assert response.status_code == 400
    text = page(response)
    assert "There is a problem" in text
    assert '<a href="#id_code">Enter the verification code from the document</a>' in text


@pytest.mark.parametrize(
    "typed",
    [
        "4KTXMWQ9",  # too short
        "4KTXMWQ9HC3FAA",  # too long
        "4KTXMWQ0HC3FA",  # 0 is never in a code (it reads as O)
        "4KTXMWQ9HC3F!",
        "\uff14KTXMWQ9HC3FA",  # full-width digit four
        "\u0664KTXMWQ9HC3FA",  # Arabic-Indic digit four
        "X" * 41,
    ],
)
def test_a_malformed_code_is_refused_and_what_was_typed_is_kept(client: Client, typed: str) -> None:
    response = client.get("/verify/", {"code": typed})

    assert response.status_code == 400
    text = page(response)
    assert f'<a href="#id_code">{MALFORMED}</a>' in text
    assert f'value="{typed}"' in text


def test_a_code_with_a_nul_byte_is_refused_before_the_form(client: Client) -> None:
    """No character the database cannot store reaches a view (core's middleware)."""
    response = client.get("/verify/", {"code": "4KTX\x00MWQ9HC3FA"})

    assert response.status_code == 400
    assert "cannot be stored" in page(response)


def test_the_error_is_in_kiswahili(client: Client) -> None:
    text = page(client.get("/verify/", {"code": "ABC"}, HTTP_ACCEPT_LANGUAGE="sw"))

    assert "Kuna tatizo" in text
    assert "Nambari ya uhakiki ina herufi na tarakimu 13" in text
    assert 'value="ABC"' in text


def test_the_home_page_links_to_the_check(client: Client) -> None:
    text = page(client.get("/"))

    assert '<a class="govuk-link govuk-!-font-weight-bold" href="/verify/">' in text
    assert "Check a receipt, permit or licence" in text
