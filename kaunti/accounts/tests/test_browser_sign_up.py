"""A citizen creates an account in a real browser, then switches the pages to Kiswahili."""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from kaunti.conftest import read_sms


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-GB")
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def code_sent_to(sms_file: Path, phone: str) -> str:
    [sms] = [sms for sms in read_sms(sms_file) if sms["to"] == phone]
    match = re.match(r"^(\d{6}) is your county sign-in code\.", sms["message"])
    assert match, sms["message"]
    return match.group(1)


@pytest.mark.browser
def test_citizen_signs_up_in_the_browser_and_switches_to_kiswahili(
    live_server: Any, transactional_db: None, reference_data: None, sms_file: Path, page: Page
) -> None:
    page.goto(live_server.url + "/")
    page.get_by_role("button", name="Create an account").click()  # a link styled as a button

    expect(page).to_have_url(live_server.url + "/account/sign-up/")
    page.get_by_label("Full name").fill("Wanjiru Njoroge")
    page.get_by_label("Mobile phone number").fill("0712 345 678")
    page.get_by_label("I agree that the county may process my personal data").check()
    page.get_by_role("button", name="Send me a code").click()

    expect(page).to_have_url(live_server.url + "/account/code/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your phone")
    page.get_by_label("Code from the SMS").fill(code_sent_to(sms_file, "254712345678"))
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_url(live_server.url + "/account/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My account")
    expect(page.get_by_text("Signed in with 0712 *** 678.")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    page.get_by_role("button", name="Kiswahili").click()

    expect(page.locator("html[lang=sw]")).to_have_count(1)
    expect(page).to_have_url(live_server.url + "/account/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Akaunti yangu")
