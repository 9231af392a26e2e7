"""Every service of the demo catalogue can be completed by the demo's own people: the demo
citizen applies and pays, and the demo staff (no superuser, nobody made for the test) act
on every step until the document is issued (issue 14: the business permit's fire
inspection had nobody to do it, so a paid application stayed in review for ever)."""

import csv
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from kaunti.accounts.demo import DEMO_CITIZEN_PHONE, DEMO_STAFF, load_demo_people
from kaunti.accounts.models import User
from kaunti.accounts.permissions import has_permission
from kaunti.core.models import Ward
from kaunti.core.reference_data import load_reference_data
from kaunti.core.selectors import list_wards
from kaunti.eservices.definitions.form import FieldSpec, FieldType, parse_form
from kaunti.eservices.definitions.workflow import STEP_ACTIONS, StepKind
from kaunti.eservices.models import Application, ApplicationStatus, Service, StepStatus
from kaunti.eservices.services.applications.documents import attach_document
from kaunti.eservices.services.applications.drafts import create_draft, update_draft
from kaunti.eservices.services.applications.submission import submit_application
from kaunti.eservices.services.catalogue_data import find_steps_nobody_can_act_on, load_catalogue
from kaunti.eservices.services.workflow import approve_step, record_inspection_result
from kaunti.eservices.tests.conftest import pdf, png
from kaunti.land.demo import DATA, PARCELS_FILE, _parcel_input
from kaunti.land.selectors.balances import parcel_amount_owed
from kaunti.land.services.parcels import register_parcel
from kaunti.ledger.services import load_chart_of_accounts
from kaunti.payments.services.price_list import load_price_list
from kaunti.payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(tmp_path: Path, settings: Any) -> None:
    """What `load_demo_data` loads for the services (not its demo bill or history)."""
    settings.VAR_DIR = tmp_path  # the demo's passwords file, kept out of the repository
    load_reference_data(county_code=settings.COUNTY_CODE)
    load_demo_people()
    load_chart_of_accounts()
    load_price_list(county_code=settings.COUNTY_CODE)
    load_catalogue(county_code=settings.COUNTY_CODE)


def _clear_parcel_number() -> str:
    """The land demo's first parcel, registered as the demo does (the whole land demo
    takes half a minute), owing no rates: what the clearance certificate checks."""
    with (DATA / PARCELS_FILE).open(encoding="utf-8") as handle:
        row = next(csv.DictReader(handle))
    parcel = register_parcel(
        data=_parcel_input(row, Ward.objects.get(code=row["ward_code"])), actor=None
    )
    assert parcel_amount_owed(parcel=parcel) == 0
    return parcel.number


def _answer(spec: FieldSpec, *, ward: str, parcel: str) -> str:
    """An answer a citizen could give, from the question itself."""
    today = timezone.localdate()
    if spec.type == FieldType.CHOICE:
        values = [choice.value for choice in spec.choices]
        return "new" if "new" in values else values[0]
    if spec.type == FieldType.WARD:
        return ward
    if spec.type == FieldType.NUMBER:
        return str(max(spec.minimum or Decimal(1), Decimal(1)))
    if spec.type == FieldType.DATE:
        return (today - timedelta(days=365 * 30) if spec.max_date else today).isoformat()
    if spec.type == FieldType.PHONE:
        return "0712345678"
    if spec.type == FieldType.NATIONAL_ID:
        return "12345678"
    if spec.type == FieldType.KRA_PIN:
        return "A012345678B"
    if spec.name == "parcel_number":
        return parcel
    return spec.example or "Demo answer"


def _staff_for(step: Any, application: Application) -> list[User]:
    """Demo staff (never the superuser) who may act on `step`."""
    usernames = [row[0] for row in DEMO_STAFF if not row[4]]
    action = STEP_ACTIONS[StepKind(step.kind)]
    return [
        user
        for user in User.objects.filter(username__in=usernames).order_by("username")
        if has_permission(user, action, step.department)
    ]


def _act(step: Any, actor: User) -> None:
    if step.kind == StepKind.INSPECTION:
        record_inspection_result(step=step, actor=actor, passed=True, notes="All in order.")
    else:
        approve_step(step=step, actor=actor, note="")


def _walk_steps(application: Application) -> list[tuple[str, str]]:
    """Sign off every open step with a demo officer who may (separation of duties may
    refuse one officer; the next one is tried). Returns (step, username) in order."""
    done: list[tuple[str, str]] = []
    for _round in range(20):
        application.refresh_from_db()
        if application.status != ApplicationStatus.IN_REVIEW:
            return done
        open_steps = list(application.steps.filter(status=StepStatus.OPEN).order_by("position"))
        assert open_steps, f"{application.service.code}: in review with no open step"
        for step in open_steps:
            candidates = _staff_for(step, application)
            assert candidates, (
                f"{application.service.code}: no demo officer may act on {step.code} "
                f"({step.role} in {step.department.code})"
            )
            for officer in candidates:
                try:
                    _act(step, officer)
                except ValidationError:
                    continue  # separation of duties: someone else must do it
                done.append((step.code, officer.username))
                break
            else:
                raise AssertionError(
                    f"{application.service.code}: nobody could sign off {step.code}"
                )
    raise AssertionError(f"{application.service.code}: the steps never finished")


def test_every_demo_service_is_issued_by_the_demo_people_alone(demo: None) -> None:
    # Loading the demo warns of no step (the catalogue loader's check).
    assert find_steps_nobody_can_act_on() == []
    citizen = User.objects.get(phone=DEMO_CITIZEN_PHONE)
    ward = list_wards().values_list("code", flat=True).first()
    assert ward is not None
    parcel = _clear_parcel_number()
    services = list(Service.objects.filter(is_active=True).order_by("order"))
    assert [service.code for service in services] == [
        "unified-business-permit",
        "building-plan-approval",
        "liquor-licence",
        "food-handler-certificate",
        "livestock-movement-permit",
        "change-of-land-use",
        "rates-clearance-certificate",
    ]
    issued: dict[str, str] = {}
    for service in services:
        assert service.current_version is not None
        application = create_draft(applicant=citizen, service=service)
        fields = parse_form(service.current_version.form)
        answers = {
            spec.name: _answer(spec, ward=ward, parcel=parcel)
            for spec in fields
            if spec.type != FieldType.FILE
        }
        update = update_draft(application=application, actor=citizen, answers=answers)
        assert update.errors == {}, (service.code, update.errors)
        for document in service.current_version.documents:
            upload = png() if "application/pdf" not in document["content_types"] else pdf()
            attach_document(
                application=application, actor=citizen, kind=document["kind"], upload=upload
            )
        for spec in fields:
            if spec.type == FieldType.FILE:
                attach_document(
                    application=application, actor=citizen, kind=spec.document, upload=pdf()
                )
        submitted = submit_application(application=application, actor=citizen)
        if submitted.bill is not None:
            PaymentFactory.create(bill=submitted.bill, external_ref=f"DEMO{len(issued):06d}")
        steps = _walk_steps(submitted)
        submitted.refresh_from_db()
        assert submitted.status == ApplicationStatus.ISSUED, (service.code, steps)
        assert submitted.issued_document is not None
        assert submitted.issued_document.number.startswith(submitted.version.document_prefix + "/")
        # Every step was signed off by a demo officer, none by the superuser.
        assert {username for _code, username in steps} <= {row[0] for row in DEMO_STAFF}
        assert "admin" not in {username for _code, username in steps}
        issued[service.code] = submitted.issued_document.number
    assert len(issued) == 7
    assert settings.COUNTY_CODE == "018"
