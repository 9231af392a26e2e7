"""The journey of issue 4 in a real browser: a citizen signs up, applies for a Unified
Business Permit, pays through the Daraja simulator, the inspectors and the approver act on
the staff pages, and the citizen downloads the permit and checks it at /verify/<code>."""

from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError
from django.urls import reverse
from playwright.sync_api import Browser, BrowserContext, Page, expect

from kaunti.accounts.demo import load_demo_people
from kaunti.accounts.models import User
from kaunti.accounts.tests.test_browser_sign_up import code_sent_to
from kaunti.conftest import current_totp
from kaunti.eservices.models import Application, ApplicationStatus
from kaunti.eservices.tests.conftest import PDF_BYTES, UBP_ANSWERS
from kaunti.simulators.daraja import (
    DarajaSimulator,
    DeliveryMode,
    Outcome,
    Script,
    SimulatorConfig,
)

PHONE = "254722345678"  # not the demo citizen, whom load_demo_people creates


@pytest.fixture
def new_context(browser: Browser) -> Iterator[Callable[[], BrowserContext]]:
    contexts: list[BrowserContext] = []

    def make() -> BrowserContext:
        context = browser.new_context(locale="en-GB")
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def daraja(live_server: Any, settings: Any) -> Iterator[DarajaSimulator]:
    simulator = DarajaSimulator(
        SimulatorConfig(
            consumer_key=django_settings.MPESA_CONSUMER_KEY,
            consumer_secret=django_settings.MPESA_CONSUMER_SECRET,
            shortcode=django_settings.MPESA_SHORTCODE,
            passkey=django_settings.MPESA_PASSKEY,
            script=Script(outcome=Outcome.SUCCESS, delivery=DeliveryMode.ONCE),
            callback_timeout_seconds=10.0,
        )
    ).start()
    settings.MPESA_BASE_URL = simulator.base_url
    settings.MPESA_CALLBACK_BASE_URL = live_server.url
    yield simulator
    simulator.stop()


def sign_up(page: Page, base: str, sms_file: Path) -> None:
    page.goto(base + "/account/sign-up/")
    page.get_by_label("Full name").fill("Wanjiru Njoroge")
    page.get_by_label("Mobile phone number").fill("0722 345 678")
    page.get_by_label("I agree that the county may process my personal data").check()
    page.get_by_role("button", name="Send me a code").click()
    page.get_by_label("Code from the SMS").fill(code_sent_to(sms_file, PHONE))
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(base + "/account/")


def answer_every_step(page: Page) -> None:
    while "/answers/" in page.url:
        for name, value in UBP_ANSWERS.items():
            field = page.locator(f"[name={name}]")
            if field.count() == 0:
                continue
            if field.evaluate("element => element.tagName") == "SELECT":
                field.select_option(value)
            else:
                field.fill(value)
        page.get_by_role("button", name="Save and continue").click()


def upload(page: Page, kind: str) -> None:
    form = page.locator("form").filter(has=page.locator(f"input[name=kind][value={kind}]"))
    form.locator("input[type=file]").set_input_files(
        {"name": f"{kind}.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}
    )
    form.get_by_role("button", name="Upload").click()
    expect(page.get_by_text("The document is uploaded.")).to_be_visible()


def staff_page(
    new_context: Callable[[], BrowserContext], base: str, user: User, password: str
) -> Page:
    page = new_context().new_page()
    page.goto(base + "/staff/sign-in/")
    page.locator("input[name=username]").fill(user.username)
    page.locator("input[name=password]").fill(password)
    page.get_by_role("button", name="Continue").click()
    page.locator("input[name=token]").fill(current_totp(user))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(base + "/staff/")
    return page


def inspect(page: Page, base: str, reference: str, code: str) -> None:
    page.goto(base + reverse("eservices:staff_application", args=[reference]))
    card = page.locator(f"#step-{code}")
    card.get_by_label("Passed").check()
    card.get_by_label("Inspection notes").fill("All in order.")
    card.get_by_role("button", name="Record the inspection").click()
    expect(page.get_by_text("Done.")).to_be_visible()


def approve(page: Page, base: str, reference: str, code: str) -> None:
    page.goto(base + reverse("eservices:staff_application", args=[reference]))
    page.locator(f"#step-{code}").get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Done.")).to_be_visible()


@pytest.mark.browser
def test_a_citizen_gets_a_business_permit_and_anyone_can_verify_it(
    live_server: Any,
    transactional_db: None,
    catalogue: None,
    daraja: DarajaSimulator,
    sms_file: Path,
    tmp_path: Path,
    settings: Any,
    new_context: Callable[[], BrowserContext],
) -> None:
    base = live_server.url
    # The demo's own officers, as `make run` creates them (issue 14: the demo had no fire
    # inspector, so this journey could not finish in the demo).
    settings.VAR_DIR = tmp_path
    passwords = {sign_in.username: sign_in.password for sign_in in load_demo_people()}
    approver = User.objects.get(username="approver")
    health_inspector = User.objects.get(username="inspector")
    fire_inspector = User.objects.get(username="fire.inspector")

    citizen = new_context().new_page()
    sign_up(citizen, base, sms_file)
    citizen.get_by_role("link", name="Apply for a permit or licence").click()
    citizen.get_by_label("Search the services").fill("business")
    citizen.get_by_role("button", name="Search").click()
    citizen.get_by_role("link", name="Unified Business Permit").click()
    citizen.get_by_role("button", name="Start now").click()
    answer_every_step(citizen)
    upload(citizen, "id_copy")
    upload(citizen, "kra_certificate")
    citizen.get_by_role("link", name="Continue").click()
    expect(citizen.get_by_text("Total")).to_be_visible()
    citizen.get_by_role("button", name="Submit the application").click()
    expect(citizen.locator("#application-status")).to_have_text("Submitted, awaiting payment")
    application = Application.objects.get(applicant__phone=PHONE)
    reference = application.reference

    citizen.get_by_role("link", name="Pay with M-Pesa").click()
    citizen.get_by_role("button", name="Send the payment request").click()
    application_url = base + reverse("eservices:application_detail", args=[reference])
    for _attempt in range(60):
        # On SQLite the tests share one in-memory database, whose readers meet a writer's
        # table lock at once ("database table is locked"): while the server records the
        # payment, look again a moment later.
        with suppress(OperationalError):
            application.refresh_from_db()
            if application.status == ApplicationStatus.IN_REVIEW:
                break
        citizen.wait_for_timeout(250)
    assert application.status == ApplicationStatus.IN_REVIEW
    citizen.goto(application_url)
    expect(citizen.locator("#application-status")).to_have_text("Paid, in review")
    # What is left, and by when.
    expect(citizen.get_by_text("What happens next")).to_be_visible()
    expect(citizen.locator("#application-steps")).to_contain_text("Fire safety inspection")

    # One sign-in each: a TOTP code is accepted once, so a second sign-in in the same
    # 30 seconds would be refused (as it should be).
    approver_page = staff_page(new_context, base, approver, passwords["approver"])
    approve(approver_page, base, reference, "review")
    for inspector, code in (
        (health_inspector, "inspection-health"),
        (fire_inspector, "inspection-fire"),
    ):
        page = staff_page(new_context, base, inspector, passwords[inspector.username])
        inspect(page, base, reference, code)
    approve(approver_page, base, reference, "approval")

    citizen.goto(application_url)
    expect(citizen.locator("#application-status")).to_have_text("Issued")
    href = citizen.locator("#download-document").get_attribute("href")
    assert href
    pdf = citizen.request.get(base + href)
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")

    application.refresh_from_db()
    assert application.issued_document is not None
    anyone = new_context().new_page()
    anyone.goto(base + f"/verify/{application.issued_document.verification_code}")
    expect(anyone.locator(".govuk-panel__title")).to_have_text("Valid")
    expect(anyone.get_by_text("Mama Njeri Salon")).to_be_visible()
