"""A draft application: started (pre-filled from the account, or from last year's permit
on a renewal) and its answers saved, each checked on its own."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kaunti.accounts.models import User
from kaunti.core.models import Ward
from kaunti.core.services.audit import record_event
from kaunti.eservices.definitions.answers import clean_answers
from kaunti.eservices.definitions.form import FieldSpec, FieldType, parse_form
from kaunti.eservices.models import Application, ApplicationStatus, EventKind, Service
from kaunti.eservices.references import new_application_reference
from kaunti.eservices.selectors.applications.renewals import why_not_renewable
from kaunti.eservices.selectors.applications.requirements import ward_codes
from kaunti.eservices.services.applications.access import lock_application, require_applicant
from kaunti.eservices.services.notices import record_application_event


def ward_from(fields: tuple[FieldSpec, ...], answers: Mapping[str, str]) -> Ward | None:
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
                    ward=ward_from(fields, answers),
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
    locked = lock_application(application)
    require_applicant(locked, actor)
    if not locked.is_editable:
        raise ValidationError(_("This application can no longer be changed."))
    fields = parse_form(locked.version.form)
    asked = [spec for spec in fields if spec.name in answers]
    cleaned = clean_answers(asked, answers, ward_codes=ward_codes(), require_all=require_answers)
    locked.answers = {**locked.answers, **cleaned.answers}
    locked.ward = ward_from(
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
