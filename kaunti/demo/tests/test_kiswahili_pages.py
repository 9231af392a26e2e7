"""Every page a person can reach, read in Kiswahili, shows no English the catalogue translates.

The demo is loaded, then each demo person (a visitor, the citizen, every staff role)
walks the site in Kiswahili from their start pages and every page without parameters,
following the links they are shown. Any visible text that is an English message of the
catalogues with a Kiswahili translation is a leak: a template or a view that skipped
`{% translate %}`, or reference data shown by its English column (ADR 15).
"""

import gettext
import json
import re
from collections import deque
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urlsplit

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from kaunti.accounts.demo import DEMO_CITIZEN_PHONE
from kaunti.accounts.models import User
from kaunti.conftest import current_totp
from kaunti.core.models import Ward
from kaunti.eservices.models import ComplaintCategory, Service
from kaunti.eservices.services.applications import (
    attach_document,
    create_draft,
    submit_application,
    update_draft,
)
from kaunti.eservices.services.complaints import file_complaint
from kaunti.eservices.tests.conftest import UBP_ANSWERS, pdf
from kaunti.land.models import ValuationRoll
from kaunti.ledger.models import JournalEntry
from kaunti.payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db

KAUNTI = Path(__file__).resolve().parents[2]
CATALOGUES = [
    KAUNTI / "locale/sw/LC_MESSAGES/django.mo",
    KAUNTI / "land/locale/sw/LC_MESSAGES/django.mo",
    KAUNTI / "ussd/locale/sw/LC_MESSAGES/django.mo",
]
# Words that are the same, or rightly English, on a Kiswahili page: the language switch
# names English in English; codes and brands are not translated.
SAME_IN_BOTH = {"English", "Kiswahili", "M-Pesa", "KES", "SMS", "PDF", "CSV", "USSD", "TOTP"}
# Outside the site's own pages: the admin and the API docs are in Django's and DRF's hands.
NOT_CRAWLED = ("/admin/", "/api/", "/static/", "/media/", "/language/", "/i18n/")
PAGES_PER_PERSON = 200


def _catalogues() -> Iterator[tuple[str, str]]:
    for path in CATALOGUES:
        with path.open("rb") as compiled:
            # The compiled catalogue holds only translated, non-fuzzy messages.
            catalogue: dict[Any, str] = gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
        for msgid, msgstr in catalogue.items():
            if isinstance(msgid, str) and msgid:  # not plural forms, nor the header
                yield " ".join(msgid.split()), " ".join(msgstr.split())


def _same_in_both() -> set[str]:
    """Messages whose Kiswahili is the English ("Equity Bank", "KCB"): names, not leaks."""
    return SAME_IN_BOTH | {english for english, swahili in _catalogues() if english == swahili}


def _translated_english() -> dict[str, str]:
    """English msgid -> Kiswahili msgstr, for the messages that differ and stand alone."""
    messages: dict[str, str] = {}
    for english, swahili in _catalogues():
        if "%" in english or "{" in english or english == swahili or len(english) < 4:
            continue
        if english not in SAME_IN_BOTH:
            messages[english] = swahili
    return messages


class _VisibleText(HTMLParser):
    """Text nodes a person sees or hears (screen readers read visually hidden text)."""

    def __init__(self) -> None:
        super().__init__()
        self.skipping = 0
        self.texts: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self.skipping += 1
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self.skipping:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self.skipping:
            self.texts.append(text)


def _pages_without_parameters() -> Iterator[str]:
    def walk(patterns: list[Any], prefix: str) -> Iterator[str]:
        for pattern in patterns:
            route = str(pattern.pattern)
            if "<" in route or "(" in route or "^" in route:
                continue
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + route)
            elif isinstance(pattern, URLPattern):
                yield "/" + prefix + route

    yield from walk(get_resolver().url_patterns, "")


# What a page rightly shows as written: names in “quotes” (a bank statement's columns).
QUOTED = re.compile(r"“[^”]*”")


def _leaks(html: str, english: dict[str, str], names: set[str]) -> tuple[set[str], list[str]]:
    """The translated English messages a page shows, leaving out `names`: text that is the
    same in both languages (a bank's name) or that people typed (a valuation roll's name)."""
    parser = _VisibleText()
    parser.feed(html)
    page = QUOTED.sub("", " | ".join(parser.texts))
    for name in sorted(names, key=len, reverse=True):
        page = page.replace(name, "")
    found = {
        msgid
        for msgid in english
        if msgid in page and re.search(rf"(?<![\w-]){re.escape(msgid)}(?![\w-])", page)
    }
    # A longer message that leaked also contains shorter ones ("Pay" in "Pay a bill"):
    # name only the longest.
    return {m for m in found if not any(m != other and m in other for other in found)}, parser.links


def _walk(
    client: Client, start: list[str], english: dict[str, str], names: set[str]
) -> dict[str, set[str]]:
    seen: set[str] = set()
    queue = deque(start)
    leaks: dict[str, set[str]] = {}
    while queue and len(seen) < PAGES_PER_PERSON:
        url = urldefrag(queue.popleft())[0]
        parts = urlsplit(url)
        if parts.netloc or not parts.path.startswith("/") or url in seen:
            continue
        if parts.path.startswith(NOT_CRAWLED) or "sign-out" in parts.path:
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        found, links = _leaks(response.content.decode(), english, names)
        if found:
            leaks[parts.path] = found
        queue.extend(links)
    return leaks


def _give_the_citizen_an_application_and_a_complaint(citizen: User) -> None:
    """Pages the demo alone does not reach: an application in review (with its steps in
    the staff queues) and a complaint in a department's inbox."""
    service = Service.objects.get(code="unified-business-permit")
    application = create_draft(applicant=citizen, service=service)
    update_draft(application=application, actor=citizen, answers=UBP_ANSWERS)
    for kind in ("id_copy", "kra_certificate"):
        attach_document(application=application, actor=citizen, kind=kind, upload=pdf())
    submitted = submit_application(application=application, actor=citizen)
    assert submitted.bill is not None
    PaymentFactory.create(bill=submitted.bill)
    file_complaint(
        complainant=citizen,
        category=ComplaintCategory.objects.get(code="water"),
        ward=Ward.objects.get(code="0453"),
        description="Hakuna maji tangu Jumatatu.",
    )


def _sign_in_staff(client: Client, user: User, password: str) -> None:
    client.post("/staff/sign-in/", {"username": user.username, "password": password})
    client.post("/staff/sign-in/code/", {"token": current_totp(user)})


def test_no_page_shows_english_the_catalogue_translates_to_kiswahili(
    settings: Any, tmp_path: Path
) -> None:
    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"
    # Without the year of history: its notes and answers are what people typed (data, in
    # whatever language they wrote), and every kind of page it fills is reached without it.
    call_command("load_demo_data", "--no-history", stdout=open("/dev/null", "w"))  # noqa: SIM115
    _give_the_citizen_an_application_and_a_complaint(User.objects.get(phone=DEMO_CITIZEN_PHONE))
    passwords: dict[str, str] = json.loads((tmp_path / "demo-sign-ins.json").read_text())
    User.objects.update(preferred_language="sw")
    english = _translated_english()
    assert len(english) > 500  # the catalogues were read
    # A valuation roll is named by the land officer who creates it, and the ledger's memos
    # are the books' own record, kept in English (ADR 15): data, not messages.
    names = (
        _same_in_both()
        | set(ValuationRoll.objects.values_list("name", flat=True))
        | set(JournalEntry.objects.values_list("memo", flat=True))
    )
    everywhere = sorted(set(_pages_without_parameters()))

    leaks: dict[str, dict[str, set[str]]] = {}
    visitor = Client()
    visitor.cookies["kaunti_language"] = "sw"
    leaks["visitor"] = _walk(visitor, ["/", *everywhere], english, names)

    citizen = Client()
    citizen.force_login(User.objects.get(phone=DEMO_CITIZEN_PHONE))
    leaks["citizen"] = _walk(citizen, ["/", *everywhere], english, names)

    for username, password in passwords.items():
        staff = Client()
        _sign_in_staff(staff, User.objects.get(username=username), password)
        leaks[username] = _walk(staff, ["/staff/", *everywhere], english, names)

    # One line per English message, with the pages (and who saw them) that show it.
    by_message: dict[str, set[str]] = {}
    for who, pages in leaks.items():
        for path, messages in pages.items():
            for message in messages:
                by_message.setdefault(message, set()).add(f"{path} ({who})")
    if by_message:
        pytest.fail(
            "English on Kiswahili pages:\n"
            + "\n".join(
                f"{message!r} on {len(where)} pages, e.g. {sorted(where)[:3]}"
                for message, where in sorted(by_message.items())
            )
        )


def test_the_check_finds_english_text_but_not_scripts_quotes_or_names() -> None:
    english = {"Pay a bill": "Lipa bili", "Balance": "Salio", "Equity": "Mtaji"}
    html = (
        "<p>Lipa bili</p><p>Pay a bill</p><script>Balance</script>"
        "<p>safuwima “Balance”</p><option>Equity Bank</option>"
    )

    found, _links = _leaks(html, english, {"Equity Bank"})

    assert found == {"Pay a bill"}
