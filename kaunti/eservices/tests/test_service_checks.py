"""Named service checks (kaunti.core.service_checks) on the rates clearance certificate:
run on submission and again before issue, their facts printed on the certificate.

The land app registers the real `land.rates_clear`; these tests register their own fake
under that name (and put back whatever was there), so they never depend on land."""

import base64
import re
import zlib
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from kaunti.accounts.models import User
from kaunti.conftest import sign_in_staff
from kaunti.core import service_checks
from kaunti.core.models import IssuedDocument
from kaunti.core.service_checks import CheckResult
from kaunti.eservices.models import Application, ApplicationStatus, Service, StepStatus
from kaunti.eservices.selectors.applications import render_issued_document
from kaunti.eservices.services.applications import create_draft, submit_application, update_draft
from kaunti.eservices.services.workflow import approve_step
from kaunti.eservices.tests.conftest import step
from kaunti.payments.models import Bill
from kaunti.payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db

ANSWERS = {
    "parcel_number": "nyandarua/ol  kalou/1234",
    "purpose": "transfer",
    "contact_phone": "0712 000 111",
}


class FakeRatesCheck:
    """Stands in for land's check: clear or in arrears, as the test sets it."""

    def __init__(self) -> None:
        self.is_clear = True
        self.seen: list[str] = []

    def __call__(self, answers: object) -> CheckResult:
        assert isinstance(answers, dict)
        self.seen.append(str(answers["parcel_number"]))
        if self.is_clear:
            return CheckResult(
                ok=True, facts={"Registered owner": "Wanjiku Kamau", "Rates balance": "KES 0.00"}
            )
        return CheckResult(
            ok=False, message=f"Parcel {answers['parcel_number']} owes KES 4,500.00 in rates."
        )


@pytest.fixture
def rates_check(monkeypatch: pytest.MonkeyPatch) -> FakeRatesCheck:
    """Registered for this test only: monkeypatch puts back what was there (or nothing)."""
    fake = FakeRatesCheck()
    monkeypatch.setitem(service_checks._checks, "land.rates_clear", fake)
    return fake


@pytest.fixture
def clearance(catalogue: None) -> Service:
    return Service.objects.get(code="rates-clearance-certificate")


@pytest.fixture
def draft(clearance: Service, citizen: User) -> Application:
    application = create_draft(applicant=citizen, service=clearance)
    update = update_draft(application=application, actor=citizen, answers=ANSWERS)
    assert update.is_valid
    return update.application


def pdf_text(content: bytes) -> str:
    """The text drawn on a ReportLab PDF (its page streams are zlib-compressed)."""
    text = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", content, re.S):
        data = stream.strip()
        if data.endswith(b"~>"):  # ReportLab's default: ASCII85 around Flate
            data = base64.a85decode(data[:-2].replace(b"\n", b""))
        try:
            text.append(zlib.decompress(data).decode("latin-1"))
        except zlib.error:
            continue
    return "".join(text)


def test_the_catalogue_describes_the_rates_clearance_certificate(clearance: Service) -> None:
    version = clearance.current_version
    assert version is not None
    assert (clearance.department.code, version.checks, version.document_kind) == (
        "lands",
        ["land.rates_clear"],
        "certificate",
    )
    assert (version.validity_rule, version.validity_months) == ("months", 12)
    assert [step["kind"] for step in version.workflow] == ["approval"]


def test_a_parcel_number_must_look_like_the_registry_s(clearance: Service, citizen: User) -> None:
    application = create_draft(applicant=citizen, service=clearance)
    update = update_draft(
        application=application, actor=citizen, answers={**ANSWERS, "parcel_number": "1234"}
    )
    assert update.errors == {
        "parcel_number": ["Parcel number (as on the title): write it like NYANDARUA/OL KALOU/1234."]
    }
    assert update.application.answers["parcel_number"] == "1234"  # kept to correct


def test_the_parcel_number_is_kept_in_capitals(draft: Application) -> None:
    assert draft.answers["parcel_number"] == "NYANDARUA/OL KALOU/1234"


def test_submission_is_refused_with_the_checks_message_and_nothing_changes(
    draft: Application, citizen: User, rates_check: FakeRatesCheck
) -> None:
    rates_check.is_clear = False
    with pytest.raises(ValidationError) as refused:
        submit_application(application=draft, actor=citizen)
    assert refused.value.messages == ["Parcel NYANDARUA/OL KALOU/1234 owes KES 4,500.00 in rates."]
    draft.refresh_from_db()
    assert (draft.status, draft.bill_id, Bill.objects.count()) == (ApplicationStatus.DRAFT, None, 0)


def test_a_check_nobody_registered_refuses(
    draft: Application, citizen: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(service_checks._checks, "land.rates_clear", raising=False)
    with pytest.raises(ValidationError) as refused:
        submit_application(application=draft, actor=citizen)
    assert refused.value.messages == ["This service is not available at the moment."]
    draft.refresh_from_db()
    assert draft.status == ApplicationStatus.DRAFT


def test_the_check_page_shows_the_refusal_and_keeps_the_answers(
    draft: Application, citizen: User, rates_check: FakeRatesCheck
) -> None:
    rates_check.is_clear = False
    client = Client()
    client.force_login(citizen)
    response = client.post(reverse("eservices:check", args=[draft.reference]), {"note": ""})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Parcel NYANDARUA/OL KALOU/1234 owes KES 4,500.00 in rates." in page
    assert "NYANDARUA/OL KALOU/1234" in page
    draft.refresh_from_db()
    assert draft.status == ApplicationStatus.DRAFT


def test_the_certificate_is_refused_if_rates_fall_due_before_issue_then_issued_with_the_facts(
    draft: Application, citizen: User, rates_check: FakeRatesCheck, people: dict[str, User]
) -> None:
    submitted = submit_application(application=draft, actor=citizen)
    assert submitted.bill is not None
    assert submitted.bill.total == Decimal("1000.00")
    PaymentFactory.create(bill=submitted.bill)
    approval = step(submitted, "approval")
    assert approval.status == StepStatus.OPEN

    rates_check.is_clear = False
    with pytest.raises(ValidationError) as refused:
        approve_step(step=approval, actor=people["lands_approver"])
    assert refused.value.messages == ["Parcel NYANDARUA/OL KALOU/1234 owes KES 4,500.00 in rates."]
    approval.refresh_from_db()
    submitted.refresh_from_db()
    assert (approval.status, submitted.status) == (StepStatus.OPEN, ApplicationStatus.IN_REVIEW)
    assert not IssuedDocument.objects.filter(source_ref=submitted.reference).exists()

    rates_check.is_clear = True
    approve_step(step=approval, actor=people["lands_approver"])
    submitted.refresh_from_db()
    assert submitted.status == ApplicationStatus.ISSUED
    assert submitted.check_facts == {
        "Registered owner": "Wanjiku Kamau",
        "Rates balance": "KES 0.00",
    }
    assert rates_check.seen == ["NYANDARUA/OL KALOU/1234"] * 3  # submit, refused, issued
    rendered = render_issued_document(user=citizen, reference=submitted.reference, language="en")
    assert rendered is not None
    text = pdf_text(rendered.content)
    assert "Registered owner: Wanjiku Kamau" in text
    assert "Rates balance: KES 0.00" in text
    assert "NYANDARUA/OL KALOU/1234" in text


def test_the_refusal_before_issue_shows_on_the_staff_page(
    draft: Application,
    citizen: User,
    rates_check: FakeRatesCheck,
    people: dict[str, User],
) -> None:
    submitted = submit_application(application=draft, actor=citizen)
    assert submitted.bill is not None
    PaymentFactory.create(bill=submitted.bill)
    rates_check.is_clear = False
    client = Client()
    sign_in_staff(client, people["lands_approver"])
    response = client.post(
        reverse("eservices:staff_step_action", args=[submitted.reference, "approval", "approve"]),
        {"note": ""},
        follow=True,
    )
    assert "owes KES 4,500.00 in rates." in response.content.decode()
    assert step(submitted, "approval").status == StepStatus.OPEN
