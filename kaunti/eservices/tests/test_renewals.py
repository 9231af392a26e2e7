"""Renewals: by document number in one go (the USSD entry point), which documents a
renewal needs, and the December rule of calendar-year permits."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kaunti.accounts.models import User
from kaunti.core.models import IssuedDocument
from kaunti.eservices.models import Application, ApplicationStatus, Service
from kaunti.eservices.selectors.applications.renewals import why_not_renewable
from kaunti.eservices.services.applications import (
    attach_document,
    submit_application,
)
from kaunti.eservices.services.catalogue import create_draft_version, publish_service_version
from kaunti.eservices.services.renewals import renew_by_document_number
from kaunti.eservices.services.workflow.actions import approve_step
from kaunti.eservices.services.workflow.inspections import record_inspection_result
from kaunti.eservices.tests.conftest import UBP_ANSWERS, pdf, step
from kaunti.eservices.tests.factories import DraftFactory
from kaunti.eservices.validity import valid_until_for
from kaunti.payments.models import Bill

pytestmark = pytest.mark.django_db


def issue(application: Application, people: dict[str, User]) -> Application:
    """Take a paid business permit through its four steps to an issued permit."""
    approve_step(step=step(application, "review"), actor=people["trade_approver"])
    for code, inspector in (
        ("inspection-health", "health_inspector"),
        ("inspection-fire", "fire_inspector"),
    ):
        record_inspection_result(
            step=step(application, code), actor=people[inspector], passed=True, notes=""
        )
    approve_step(step=step(application, "approval"), actor=people["trade_approver"])
    application.refresh_from_db()
    assert application.status == ApplicationStatus.ISSUED
    return application


def valid_until(application: Application, day: date) -> Application:
    """Arrange the issued permit's expiry (e.g. make it last year's)."""
    assert application.issued_document is not None
    IssuedDocument.objects.filter(pk=application.issued_document.pk).update(valid_until=day)
    application.refresh_from_db()
    return application


@pytest.fixture
def last_years_permit(in_review_ubp: Application, people: dict[str, User]) -> Application:
    issued = issue(in_review_ubp, people)
    return valid_until(issued, date(timezone.localdate().year - 1, 12, 31))


def counts() -> tuple[int, int]:
    return Application.objects.count(), Bill.objects.count()


def number_of(application: Application) -> str:
    assert application.issued_document is not None
    return application.issued_document.number


def test_renewing_by_number_submits_last_years_answers_and_raises_the_bill(
    last_years_permit: Application, citizen: User
) -> None:
    typed = "  " + number_of(last_years_permit).lower().replace("/", " / ") + " "

    renewal = renew_by_document_number(document_number=typed, applicant=citizen)

    renewal.refresh_from_db()
    assert renewal.status == ApplicationStatus.SUBMITTED
    assert renewal.renewal_of == last_years_permit
    assert renewal.answers == {
        **UBP_ANSWERS,
        "application_type": "renewal",
        "contact_phone": "254712000111",
    }
    assert renewal.documents.count() == 0  # nothing to upload: details are unchanged
    assert renewal.bill is not None
    assert renewal.bill.total == renewal.fee_total
    assert renewal.fees["lines"][0]["amount"] == "10000.00"
    assert renewal.bill.source_ref == renewal.reference


@pytest.mark.parametrize("whose", ["unknown", "someone else's"])
def test_an_unknown_or_someone_elses_number_is_refused_alike(
    last_years_permit: Application, other_citizen: User, citizen: User, whose: str
) -> None:
    number = "UBP/2026/QQQQQQQ" if whose == "unknown" else number_of(last_years_permit)
    applicant = citizen if whose == "unknown" else other_citizen
    before = counts()
    with pytest.raises(ValidationError) as refused:
        renew_by_document_number(document_number=number, applicant=applicant)
    assert refused.value.messages == [f"We found no permit or licence of yours numbered {number}."]
    assert counts() == before


def test_a_revoked_permit_cannot_be_renewed(last_years_permit: Application, citizen: User) -> None:
    assert last_years_permit.issued_document is not None
    IssuedDocument.objects.filter(pk=last_years_permit.issued_document.pk).update(
        revoked_at=timezone.now()
    )
    before = counts()
    with pytest.raises(ValidationError) as refused:
        renew_by_document_number(document_number=number_of(last_years_permit), applicant=citizen)
    assert refused.value.messages == ["This document cannot be renewed; apply afresh."]
    assert counts() == before


def test_a_permit_renewed_once_is_not_renewed_twice(
    last_years_permit: Application, citizen: User
) -> None:
    first = renew_by_document_number(
        document_number=number_of(last_years_permit), applicant=citizen
    )
    before = counts()
    with pytest.raises(ValidationError) as refused:
        renew_by_document_number(document_number=number_of(last_years_permit), applicant=citizen)
    assert refused.value.messages == [
        f"{number_of(last_years_permit)} is already renewed (application {first.reference})."
    ]
    assert counts() == before


def test_a_permit_still_valid_for_the_coming_period_is_not_renewed_yet(
    in_review_ubp: Application, people: dict[str, User], citizen: User
) -> None:
    year = timezone.localdate().year + 1
    permit = valid_until(issue(in_review_ubp, people), date(year, 12, 31))
    before = counts()
    with pytest.raises(ValidationError) as refused:
        renew_by_document_number(document_number=number_of(permit), applicant=citizen)
    assert refused.value.messages == [
        f"{number_of(permit)} is valid until 31/12/{year} already; "
        f"you can renew it from 01/12/{year}."
    ]
    assert counts() == before


def test_a_service_that_wants_documents_on_renewal_sends_the_applicant_to_the_web(
    last_years_permit: Application, citizen: User, ubp: Service
) -> None:
    assert ubp.current_version is not None
    documents = [{**spec, "required_on_renewal": True} for spec in ubp.current_version.documents]
    publish_service_version(
        version=create_draft_version(service=ubp, actor=None, changes={"documents": documents}),
        actor=None,
    )
    before = counts()
    with pytest.raises(ValidationError) as refused:
        renew_by_document_number(document_number=number_of(last_years_permit), applicant=citizen)
    assert refused.value.messages == [
        "This renewal needs more than we can take here: Copy of the owner's national ID: "
        "upload this document. KRA PIN certificate: upload this document. "
        "Please renew on the web."
    ]
    assert counts() == before


def test_a_web_renewal_asks_for_a_document_again_only_when_its_details_changed(
    last_years_permit: Application, citizen: User
) -> None:
    renewal = DraftFactory.create(
        applicant=citizen,
        service=last_years_permit.service,
        renewal_of=last_years_permit,
        answers={"kra_pin": "P051365947M"},
    )
    with pytest.raises(ValidationError) as refused:
        submit_application(application=renewal, actor=citizen)
    assert refused.value.message_dict == {
        "kra_certificate": ["KRA PIN certificate: upload this document."]
    }
    renewal.refresh_from_db()
    assert (renewal.status, renewal.bill_id) == (ApplicationStatus.DRAFT, None)

    attach_document(
        application=renewal, actor=citizen, kind="kra_certificate", upload=pdf("kra.pdf")
    )
    submitted = submit_application(application=renewal, actor=citizen)
    assert submitted.status == ApplicationStatus.SUBMITTED
    assert list(submitted.documents.values_list("kind", flat=True)) == ["kra_certificate"]


def test_a_new_application_still_needs_every_required_document(ubp: Service, citizen: User) -> None:
    application = DraftFactory.create(applicant=citizen, service=ubp, answers=UBP_ANSWERS)
    with pytest.raises(ValidationError) as refused:
        submit_application(application=application, actor=citizen)
    assert sorted(refused.value.message_dict) == ["id_copy", "kra_certificate"]


# --- December: a calendar-year permit issued from 1 December covers the next year ------------


@pytest.mark.parametrize(
    ("issued_on", "expected"),
    [
        (date(2026, 11, 30), date(2026, 12, 31)),
        (date(2026, 12, 1), date(2027, 12, 31)),
        (date(2026, 12, 31), date(2027, 12, 31)),
        (date(2027, 1, 1), date(2027, 12, 31)),
    ],
)
def test_the_business_permit_issued_from_1_december_runs_to_the_end_of_next_year(
    ubp: Service, issued_on: date, expected: date
) -> None:
    version = ubp.current_version
    assert version is not None
    assert version.next_year_from == "12-01"  # catalogue data, not code
    assert (
        valid_until_for(
            rule=version.validity_rule,
            months=version.validity_months,
            issued_on=issued_on,
            next_year_from=version.next_year_from,
        )
        == expected
    )


def test_without_a_rollover_day_a_december_permit_ends_that_year() -> None:
    assert valid_until_for(
        rule="to_31_december", months=None, issued_on=date(2026, 12, 15)
    ) == date(2026, 12, 31)


@pytest.mark.parametrize(
    ("on_date", "refusal"),
    [
        (
            date(2026, 11, 30),
            "is valid until 31/12/2026 already; you can renew it from 01/12/2026.",
        ),
        (date(2026, 12, 1), ""),
        (date(2026, 12, 31), ""),
        (date(2027, 1, 1), ""),
    ],
)
def test_this_years_permit_can_be_renewed_from_1_december(
    in_review_ubp: Application, people: dict[str, User], on_date: date, refusal: str
) -> None:
    permit = valid_until(issue(in_review_ubp, people), date(2026, 12, 31))
    answer = why_not_renewable(application=permit, on_date=on_date)
    assert answer == (f"{number_of(permit)} {refusal}" if refusal else "")


def test_a_permit_renewed_in_december_is_not_renewable_again_in_january(
    in_review_ubp: Application, people: dict[str, User]
) -> None:
    permit = valid_until(issue(in_review_ubp, people), date(2027, 12, 31))
    assert why_not_renewable(application=permit, on_date=date(2027, 1, 1)) == (
        f"{number_of(permit)} is valid until 31/12/2027 already; you can renew it from 01/12/2027."
    )


def test_a_rollover_day_is_refused_on_a_document_that_does_not_run_to_31_december(
    ubp: Service,
) -> None:
    with pytest.raises(ValidationError) as refused:
        create_draft_version(
            service=ubp,
            actor=None,
            changes={"validity_rule": "months", "validity_months": 12, "next_year_from": "12-01"},
        )
    assert refused.value.message_dict["next_year_from"] == [
        "Only documents valid to 31 December roll over."
    ]
