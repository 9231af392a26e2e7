"""Issuing the permit, licence, certificate or approval letter of an approved application.

The document is registered with `core.services.documents`, so its code verifies at /verify/<code>
(valid, expired or revoked) and the PDF carries a QR code to that page. Validity follows
the service version's rule: business permits run to 31 December (the Nyandarua Finance
Act's calendar-year permits); others for a number of months (County Licensing (Uniform
Procedures) Act 2024, s. 17: duration of licence) or without expiry.

Before a document is issued the service's named checks run again (a rates balance can
change between submission and approval); a failed check refuses the issue, and what each
check reports (its facts) is kept on the application and printed on the document.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kaunti.accounts.models import User
from kaunti.accounts.permissions import require_permission
from kaunti.core.models import IssuedDocument
from kaunti.core.service_checks import run_service_check
from kaunti.core.services.audit import record_event
from kaunti.core.services.documents import register_document, verification_url
from kaunti.eservices.definitions.version import parse_checks
from kaunti.eservices.models import (
    APPLICATION_SOURCE_TYPE,
    Application,
    ApplicationStatus,
    EventKind,
    ValidityRule,
)
from kaunti.eservices.references import document_number
from kaunti.eservices.services.notices import record_application_event, text_applicant
from kaunti.eservices.validity import valid_until_for


def holder_name_for(application: Application) -> str:
    """Who the document names: the answer the version points at (e.g. the business
    name), or the applicant's own name."""
    field = application.version.holder_field
    if field and str(application.answers.get(field, "")).strip():
        return str(application.answers[field]).strip()
    applicant = application.applicant
    return applicant.full_name or applicant.get_username()


def run_checks(application: Application, answers: dict[str, str]) -> dict[str, str]:
    """Run the version's named checks on `answers`; `ValidationError` with the message of
    the first that fails, else the facts they report, merged in order."""
    facts: dict[str, str] = {}
    for name in parse_checks(application.version.checks):
        result = run_service_check(name, answers)
        if not result.ok:
            raise ValidationError(result.message or _("This application cannot go ahead."))
        facts.update({str(key): str(value) for key, value in result.facts.items()})
    return facts


def issue_approved_application(application: Application, *, actor: User | None) -> IssuedDocument:
    """Issue the document of an application already locked and approved (no audit record:
    the calling service writes the one record of its use case). `ValidationError` when a
    named check now fails: the caller's transaction is undone, nothing is issued."""
    version = application.version
    facts = run_checks(application, {k: str(v) for k, v in application.answers.items()})
    issued_at = timezone.now()
    issued_on = timezone.localdate(issued_at)
    valid_until = valid_until_for(
        rule=version.validity_rule,
        months=version.validity_months,
        issued_on=issued_on,
        next_year_from=version.next_year_from,
    )
    # A calendar-year permit is numbered by the year it covers (UBP/2027/... when issued
    # in December 2026 for 2027); others by the year of issue.
    number_year = (
        valid_until.year
        if valid_until is not None and version.validity_rule == ValidityRule.TO_31_DECEMBER
        else issued_on.year
    )
    document = register_document(
        kind=version.document_kind,
        number=document_number(
            prefix=version.document_prefix, year=number_year, reference=application.reference
        ),
        holder_name=holder_name_for(application),
        issued_at=issued_at,
        source_type=APPLICATION_SOURCE_TYPE,
        source_ref=application.reference,
        summary=application.service.name_en,
        summary_sw=application.service.name_sw,
        valid_until=valid_until,
    )
    application.issued_document = document
    application.status = ApplicationStatus.ISSUED
    application.issued_at = issued_at
    application.check_facts = facts
    application.save(
        update_fields=["issued_document", "status", "issued_at", "check_facts", "updated_at"]
    )
    record_application_event(
        application=application,
        kind=EventKind.ISSUED,
        actor=actor,
        data={"number": document.number},
    )
    text_applicant(
        application=application,
        template="application_issued",
        number=document.number,
        valid_until=document.valid_until,
        verify_url=verification_url(document.verification_code),
    )
    return document


@transaction.atomic
def issue_document(*, application: Application, actor: User) -> IssuedDocument:
    """Issue the document of an approved application that was not issued on approval."""
    locked = (
        Application.objects.select_for_update(of=("self",))
        .select_related("service__department", "version", "applicant")
        .get(pk=application.pk)
    )
    require_permission(actor, "eservices.approve", locked.service.department)
    if locked.status != ApplicationStatus.APPROVED:
        raise ValidationError(_("Only an approved application can be issued its document."))
    document = issue_approved_application(locked, actor=actor)
    record_event(
        actor=actor,
        action="eservices.document_issued",
        target=locked,
        data={"reference": locked.reference, "number": document.number},
    )
    return document
