"""Submission and resubmission of a complete application.

Submission is where an application meets the money path (ARCHITECTURE.md): the fee is
computed from the Finance Act schedule in force that day, the bill is raised through
`payments.create_bill` with exactly the breakdown's lines, and the application waits for
payment; `services.settlement` moves it into review when the bill is paid. A service
that costs nothing goes straight to review.
"""

from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kaunti.accounts.models import User
from kaunti.core.language import in_both_languages
from kaunti.core.money import format_amount
from kaunti.core.services.audit import record_event
from kaunti.eservices.definitions.answers import clean_answers
from kaunti.eservices.definitions.form import FieldType, parse_form
from kaunti.eservices.models import (
    APPLICATION_SOURCE_TYPE,
    Application,
    ApplicationStatus,
    EventKind,
)
from kaunti.eservices.selectors.applications.fees import compute_application_fees
from kaunti.eservices.selectors.applications.requirements import required_documents, ward_codes
from kaunti.eservices.services.applications.access import lock_application, require_applicant
from kaunti.eservices.services.applications.drafts import ward_from
from kaunti.eservices.services.issuing import holder_name_for, run_checks
from kaunti.eservices.services.notices import (
    record_application_event,
    text_applicant,
    text_applicant_in_review,
)
from kaunti.eservices.services.workflow.steps import restart_open_steps, start_review
from kaunti.payments.services.bills import LineInput, Payer, create_bill

BILL_DUE_DAYS = 14
# What the settlement handler may change when a payer's credit pays the bill at once
# (re-read after raising it; the service, version, applicant and ward stay as locked).
SETTLEMENT_FIELDS = [
    "status",
    "paid_at",
    "decided_at",
    "issued_at",
    "issued_document",
    "check_facts",
    "decision_reason",
    "updated_at",
]


def _check_complete(application: Application) -> dict[str, str]:
    """Every required answer valid and every required document uploaded, or
    `ValidationError` with a message per field and per document."""
    fields = parse_form(application.version.form)
    cleaned = clean_answers(fields, application.answers, ward_codes=ward_codes(), require_all=True)
    errors = dict(cleaned.errors)
    uploaded = set(
        application.documents.filter(step__isnull=True, superseded_at__isnull=True).values_list(
            "kind", flat=True
        )
    )
    needed = required_documents(application)
    for kind, label in needed.items():
        if kind not in uploaded:
            errors.setdefault(kind, []).append(
                _("%(label)s: upload this document.") % {"label": label}
            )
    if errors:
        raise ValidationError(errors)
    return cleaned.answers


def _payer(application: Application) -> Payer:
    applicant = application.applicant
    fields = parse_form(application.version.form)
    by_type = {
        field.type: str(application.answers.get(field.name, ""))
        for field in reversed(fields)
        if application.answers.get(field.name)
    }
    return Payer(
        name=applicant.full_name or holder_name_for(application),
        phone=applicant.phone or "",
        id_number=by_type.get(FieldType.NATIONAL_ID, "") or applicant.national_id,
        kra_pin=by_type.get(FieldType.KRA_PIN, "") or applicant.kra_pin,
        user=applicant,
    )


@transaction.atomic
def submit_application(
    *, application: Application, actor: User, on_date: date | None = None
) -> Application:
    """Submit a complete draft: fix the fee, raise the bill, wait for payment.

    The bill carries exactly the breakdown's lines (one per line, on the rule's revenue
    stream), and the breakdown is kept on the application as billed. An incomplete
    draft is refused with a message per field and nothing changes.
    """
    locked = lock_application(application)
    require_applicant(locked, actor)
    if locked.status != ApplicationStatus.DRAFT:
        raise ValidationError(_("Only a draft can be submitted."))
    answers = _check_complete(locked)
    run_checks(locked, answers)
    on_date = on_date or timezone.localdate()
    breakdown, schedule = compute_application_fees(
        application=locked, answers=answers, on_date=on_date
    )
    fields = parse_form(locked.version.form)
    locked.answers = {**locked.answers, **answers}
    locked.ward = ward_from(fields, locked.answers)
    locked.fee_schedule = schedule
    locked.fees = breakdown.as_json()
    locked.fee_total = breakdown.total
    locked.submitted_at = timezone.now()
    locked.status = ApplicationStatus.SUBMITTED
    locked.save(
        update_fields=[
            "answers",
            "ward",
            "fee_schedule",
            "fees",
            "fee_total",
            "submitted_at",
            "status",
            "updated_at",
        ]
    )
    record_application_event(
        application=locked, kind=EventKind.SUBMITTED, actor=actor, data={"total": breakdown.total}
    )
    bill_number = ""
    if breakdown.total > 0:
        description, description_sw = in_both_languages(
            lambda: (
                _("%(service)s: application %(reference)s")
                % {"service": locked.service.localized_name, "reference": locked.reference}
            )
        )
        bill = create_bill(
            payer=_payer(locked),
            lines=[
                LineInput(
                    stream_code=line.stream_code,
                    quantity=Decimal(1),
                    unit_price=line.amount,
                    description=line.description_en[:200],
                    description_sw=line.description_sw[:200],
                )
                for line in breakdown.lines
            ],
            department=locked.service.department,
            ward=locked.ward,
            due_on=on_date + timedelta(days=BILL_DUE_DAYS),
            description=description,
            description_sw=description_sw,
            actor=actor,
            source_type=APPLICATION_SOURCE_TYPE,
            source_ref=locked.reference,
        )
        bill_number = bill.number
        # Only the bill: a payer's credit may already have paid it, and the settlement
        # handler then moved the application on inside create_bill.
        Application.objects.filter(pk=locked.pk).update(bill=bill)
        locked.refresh_from_db(fields=SETTLEMENT_FIELDS)
        locked.bill = bill
        if locked.status == ApplicationStatus.SUBMITTED:
            text_applicant(
                application=locked,
                template="application_submitted",
                amount=breakdown.total,
                bill=bill.number,
                paybill=settings.MPESA_SHORTCODE,
            )
    else:
        start_review(locked, actor=actor, event_kind=EventKind.REVIEW_STARTED)
        if locked.status == ApplicationStatus.IN_REVIEW:
            text_applicant_in_review(application=locked)
    record_event(
        actor=actor,
        action="eservices.application_submitted",
        target=locked,
        data={
            "reference": locked.reference,
            "total": breakdown.total,
            "bill": bill_number,
            "schedule": schedule.pk if schedule is not None else None,
        },
    )
    return locked


@transaction.atomic
def resubmit_application(*, application: Application, actor: User, note: str = "") -> Application:
    """Send a returned application back to the county after making the changes asked.

    The fee was fixed and paid on submission; a change that would alter it is refused
    (withdraw and apply afresh instead), so what was paid is always what was assessed.
    """
    locked = lock_application(application)
    require_applicant(locked, actor)
    if locked.status != ApplicationStatus.RETURNED:
        raise ValidationError(_("Only an application returned for changes can be resubmitted."))
    answers = _check_complete(locked)
    submitted_on = (
        timezone.localdate(locked.submitted_at) if locked.submitted_at else timezone.localdate()
    )
    breakdown, _schedule = compute_application_fees(
        application=locked, answers=answers, on_date=submitted_on
    )
    if breakdown.total != locked.fee_total:
        raise ValidationError(
            _(
                "These changes alter the fee (KES %(new)s instead of KES %(old)s). Change them "
                "back, or apply afresh."
            )
            % {"new": format_amount(breakdown.total), "old": format_amount(locked.fee_total)}
        )
    fields = parse_form(locked.version.form)
    locked.answers = {**locked.answers, **answers}
    locked.ward = ward_from(fields, locked.answers)
    locked.status = ApplicationStatus.IN_REVIEW
    locked.save(update_fields=["answers", "ward", "status", "updated_at"])
    restart_open_steps(locked)
    record_application_event(
        application=locked, kind=EventKind.RESUBMITTED, actor=actor, note=note.strip()
    )
    text_applicant(application=locked, template="application_resubmitted")
    record_event(
        actor=actor,
        action="eservices.application_resubmitted",
        target=locked,
        data={"reference": locked.reference},
    )
    return locked
