"""Issuing the permit, licence, certificate or approval letter of an approved application.

The document is registered with `core.documents`, so its code verifies at /verify/<code>
(valid, expired or revoked) and the PDF carries a QR code to that page. Validity follows
the service version's rule: business permits run to 31 December (the Nyandarua Finance
Act's calendar-year permits); others for a number of months (County Licensing (Uniform
Procedures) Act 2024, s. 17: duration of licence) or without expiry.
"""

import calendar
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kaunti.accounts.models import User
from kaunti.accounts.permissions import require_permission
from kaunti.core.audit import record_event
from kaunti.core.documents import register_document, verification_url
from kaunti.core.models import IssuedDocument
from kaunti.eservices.models import (
    APPLICATION_SOURCE_TYPE,
    Application,
    ApplicationStatus,
    EventKind,
    ValidityRule,
)
from kaunti.eservices.references import document_number
from kaunti.eservices.services.notices import record_application_event, text_applicant


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it is shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def valid_until_for(*, rule: str, months: int | None, issued_on: date) -> date | None:
    """The last day a document issued on `issued_on` is valid, or None for no expiry."""
    if rule == ValidityRule.TO_31_DECEMBER:
        return date(issued_on.year, 12, 31)
    if rule == ValidityRule.MONTHS and months:
        return add_months(issued_on, months) - timedelta(days=1)
    return None


def holder_name_for(application: Application) -> str:
    """Who the document names: the answer the version points at (e.g. the business
    name), or the applicant's own name."""
    field = application.version.holder_field
    if field and str(application.answers.get(field, "")).strip():
        return str(application.answers[field]).strip()
    applicant = application.applicant
    return applicant.full_name or applicant.get_username()


def issue_approved_application(application: Application, *, actor: User | None) -> IssuedDocument:
    """Issue the document of an application already locked and approved (no audit record:
    the calling service writes the one record of its use case)."""
    version = application.version
    issued_at = timezone.now()
    issued_on = timezone.localdate(issued_at)
    document = register_document(
        kind=version.document_kind,
        number=document_number(
            prefix=version.document_prefix, year=issued_on.year, reference=application.reference
        ),
        holder_name=holder_name_for(application),
        issued_at=issued_at,
        source_type=APPLICATION_SOURCE_TYPE,
        source_ref=application.reference,
        summary=application.service.name_en,
        valid_until=valid_until_for(
            rule=version.validity_rule, months=version.validity_months, issued_on=issued_on
        ),
    )
    application.issued_document = document
    application.status = ApplicationStatus.ISSUED
    application.issued_at = issued_at
    application.save(update_fields=["issued_document", "status", "issued_at", "updated_at"])
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
