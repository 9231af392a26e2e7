"""A citizen's side of an application: draft, answers, documents, submission, resubmission.

Submission is where an application meets the money path (ARCHITECTURE.md): the fee is
computed from the Finance Act schedule in force that day, the bill is raised through
`payments.create_bill` with exactly the breakdown's lines, and the application waits for
payment; `services.settlement` moves it into review when the bill is paid. A service
that costs nothing goes straight to review.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kaunti.accounts.models import User
from kaunti.core.audit import record_event
from kaunti.core.language import in_both_languages
from kaunti.core.models import Ward
from kaunti.core.money import format_amount
from kaunti.eservices.definitions import (
    DocumentSpec,
    FieldSpec,
    FieldType,
    clean_answers,
    current_language,
    parse_documents,
    parse_form,
)
from kaunti.eservices.models import (
    APPLICATION_SOURCE_TYPE,
    Application,
    ApplicationDocument,
    ApplicationStatus,
    EventKind,
    Service,
)
from kaunti.eservices.references import new_application_reference
from kaunti.eservices.selectors.applications import (
    compute_application_fees,
    required_documents,
    ward_codes,
    why_not_renewable,
)
from kaunti.eservices.services.files import removed_unless_completed, store_checked_upload
from kaunti.eservices.services.issuing import holder_name_for, run_checks
from kaunti.eservices.services.notices import (
    record_application_event,
    text_applicant,
    text_applicant_in_review,
)
from kaunti.eservices.services.workflow.steps import restart_open_steps, start_review
from kaunti.eservices.uploads import Upload, check_upload
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


def _require_applicant(application: Application, actor: User) -> None:
    if not (actor.is_authenticated and actor.is_active and application.applicant_id == actor.pk):
        raise PermissionDenied("not the applicant")


def _lock(application: Application) -> Application:
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related("service__department", "version", "applicant", "ward")
        .get(pk=application.pk)
    )


def _ward_from(fields: tuple[FieldSpec, ...], answers: Mapping[str, str]) -> Ward | None:
    """The first ward question decides where the application is routed and billed."""
    for field in fields:
        if field.type == FieldType.WARD and answers.get(field.name):
            return Ward.objects.filter(code=answers[field.name]).first()
    return None


def _renewal_answers(previous: Application, fields: tuple[FieldSpec, ...]) -> dict[str, str]:
    """Last permit's answers for the questions the current form still asks (not uploads:
    documents are given afresh), marked as a renewal where the form asks."""
    answers = {
        field.name: str(previous.answers[field.name])
        for field in fields
        if field.type != FieldType.FILE and field.name in previous.answers
    }
    for field in fields:
        if field.name == "application_type" and any(c.value == "renewal" for c in field.choices):
            answers["application_type"] = "renewal"
    return answers


# Text questions that ask for the applicant's own name (the form's other answers about
# the person are recognised by their type: phone, national ID, KRA PIN).
NAME_FIELDS = frozenset({"full_name", "owner_name", "applicant_name"})


def _account_answers(applicant: User, fields: tuple[FieldSpec, ...]) -> dict[str, str]:
    """What the applicant's account already holds, for the questions that ask for it, so
    nobody types their name, phone or ID number again (they may still change them)."""
    held = {
        FieldType.PHONE: applicant.phone or "",
        FieldType.NATIONAL_ID: applicant.national_id,
        FieldType.KRA_PIN: applicant.kra_pin,
    }
    answers = {}
    for field in fields:
        if field.type == FieldType.TEXT and field.name in NAME_FIELDS:
            value = applicant.full_name
        else:
            value = held.get(field.type, "")
        if value:
            answers[field.name] = value
    return answers


@transaction.atomic
def create_draft(
    *, applicant: User, service: Service, renewal_of: Application | None = None
) -> Application:
    """Start an application under the service's current version.

    A renewal pre-fills the answers of the applicant's earlier issued application of the
    same service (the business permit of last year).
    """
    if not (applicant.is_authenticated and applicant.is_active):
        raise PermissionDenied("sign in to apply")
    version = service.current_version
    if not service.is_active or version is None:
        raise ValidationError(_("This service is not taking applications."))
    fields = parse_form(version.form)
    answers = _account_answers(applicant, fields)
    if renewal_of is not None:
        if (
            renewal_of.applicant_id != applicant.pk
            or renewal_of.service_id != service.pk
            or renewal_of.status != ApplicationStatus.ISSUED
        ):
            raise ValidationError(
                _("Only your own issued document of this service can be renewed.")
            )
        if not version.is_renewable:
            raise ValidationError(_("This service cannot be renewed; apply afresh."))
        if refusal := why_not_renewable(application=renewal_of):
            raise ValidationError(refusal)
        answers.update(_renewal_answers(renewal_of, fields))
    for _attempt in range(5):
        try:
            with transaction.atomic():
                application = Application.objects.create(
                    reference=new_application_reference(),
                    applicant=applicant,
                    service=service,
                    version=version,
                    answers=answers,
                    ward=_ward_from(fields, answers),
                    renewal_of=renewal_of,
                )
            break
        except IntegrityError:
            continue  # a reference collision: draw another
    else:
        raise IntegrityError("could not draw a free application reference")
    record_application_event(application=application, kind=EventKind.CREATED, actor=applicant)
    record_event(
        actor=applicant,
        action="eservices.application_created",
        target=application,
        data={
            "reference": application.reference,
            "service": service.code,
            "version": version.number,
            "renewal_of": renewal_of.reference if renewal_of else None,
        },
    )
    return application


@dataclass(frozen=True)
class DraftUpdate:
    """The saved application and the messages for answers that are wrong, per field."""

    application: Application
    errors: dict[str, list[str]]

    @property
    def is_valid(self) -> bool:
        return not self.errors


@transaction.atomic
def update_draft(
    *,
    application: Application,
    actor: User,
    answers: Mapping[str, Any],
    require_answers: bool = False,
) -> DraftUpdate:
    """Save answers to a draft (or a returned application), each checked on its own.

    What was typed is kept even where it is wrong, so nothing is lost; the messages say
    what to fix, in the active language. With `require_answers` (a step of the form sent
    on), the required questions among `answers` must be answered too; without it a
    half-filled draft can be saved and finished later (submission checks them all).
    """
    locked = _lock(application)
    _require_applicant(locked, actor)
    if not locked.is_editable:
        raise ValidationError(_("This application can no longer be changed."))
    fields = parse_form(locked.version.form)
    asked = [spec for spec in fields if spec.name in answers]
    cleaned = clean_answers(asked, answers, ward_codes=ward_codes(), require_all=require_answers)
    locked.answers = {**locked.answers, **cleaned.answers}
    locked.ward = _ward_from(
        fields, {k: v for k, v in locked.answers.items() if k not in cleaned.errors}
    )
    locked.save(update_fields=["answers", "ward", "updated_at"])
    record_event(
        actor=actor,
        action="eservices.draft_updated",
        target=locked,
        data={
            "reference": locked.reference,
            "fields": sorted(cleaned.answers),
            "fields_with_errors": sorted(cleaned.errors),
        },
    )
    return DraftUpdate(locked, cleaned.errors)


def _document_spec(application: Application, kind: str) -> DocumentSpec:
    for spec in parse_documents(application.version.documents):
        if spec.kind == kind:
            return spec
    raise ValidationError({kind: [_("This service does not ask for that document.")]})


def attach_document(
    *, application: Application, actor: User, kind: str, upload: Upload
) -> ApplicationDocument:
    """Upload one of the documents the service asks for; a new upload of the same kind
    replaces the earlier one (which is kept, marked superseded).

    The content is checked (PDF, JPEG or PNG by its first bytes), the size capped and the
    name refused if it tries to name a folder; on any refusal nothing is stored.
    """
    spec = _document_spec(application, kind)
    try:
        checked = check_upload(
            upload,
            content_types=spec.content_types,
            max_bytes=spec.max_bytes,
            label=spec.label(current_language()),
        )
    except ValidationError as exc:
        raise ValidationError({kind: exc.messages}) from exc
    stored: list[str] = []
    with removed_unless_completed(stored), transaction.atomic():
        locked = _lock(application)
        _require_applicant(locked, actor)
        if not locked.is_editable:
            raise ValidationError(_("This application can no longer be changed."))
        name = store_checked_upload(checked=checked, folder=locked.reference)
        stored.append(name)
        now = timezone.now()
        locked.documents.filter(kind=kind, step__isnull=True, superseded_at__isnull=True).update(
            superseded_at=now
        )
        document = ApplicationDocument.objects.create(
            application=locked,
            kind=kind,
            display_name=checked.display_name,
            storage_name=name,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
            uploaded_by=actor,
        )
        record_application_event(
            application=locked,
            kind=EventKind.DOCUMENT_ATTACHED,
            actor=actor,
            data={"kind": kind, "name": checked.display_name},
        )
        record_event(
            actor=actor,
            action="eservices.document_attached",
            target=locked,
            data={
                "reference": locked.reference,
                "kind": kind,
                "sha256": checked.sha256,
                "size": checked.size,
            },
        )
    return document


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
    locked = _lock(application)
    _require_applicant(locked, actor)
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
    locked.ward = _ward_from(fields, locked.answers)
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
    locked = _lock(application)
    _require_applicant(locked, actor)
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
    locked.ward = _ward_from(fields, locked.answers)
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
