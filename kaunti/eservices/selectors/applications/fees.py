"""An application's fees: previewed from its answers before submission, as billed after."""

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from kaunti.core.money import ZERO
from kaunti.eservices.definitions.answers import clean_answers
from kaunti.eservices.definitions.form import parse_form
from kaunti.eservices.fees.breakdown import FeeBreakdown
from kaunti.eservices.fees.engine import compute_fees
from kaunti.eservices.models import Application, ApplicationStatus, FeeSchedule
from kaunti.eservices.selectors.applications.requirements import ward_codes
from kaunti.eservices.selectors.catalogue import get_fee_schedule_in_force


def compute_application_fees(
    *, application: Application, answers: Mapping[str, str], on_date: date
) -> tuple[FeeBreakdown, FeeSchedule | None]:
    """The breakdown of `answers` under the version's schedule in force on `on_date`.

    `ValidationError` (keyed by answer) when an answer the fee depends on is missing, or
    when no schedule is in force.
    """
    code = application.version.fee_schedule_code
    if not code:
        return FeeBreakdown(lines=(), total=ZERO), None
    schedule = get_fee_schedule_in_force(code=code, on_date=on_date)
    if schedule is None:
        raise ValidationError(
            _("No fee schedule is in force for this service today. Please contact the county.")
        )
    return compute_fees(schedule=schedule, answers=answers, on_date=on_date), schedule


def preview_fees(
    *, user: Any, application: Application, on_date: date | None = None
) -> FeeBreakdown:
    """The fee the applicant would be billed if they submitted now (shown before submit)."""
    if application.applicant_id != getattr(user, "pk", None):
        raise PermissionDenied("not the applicant")
    if application.status != ApplicationStatus.DRAFT:
        return get_billed_fees(application=application)
    fields = parse_form(application.version.form)
    cleaned = clean_answers(fields, application.answers, ward_codes=ward_codes(), require_all=False)
    answers = {k: v for k, v in cleaned.answers.items() if k not in cleaned.errors}
    breakdown, _schedule = compute_application_fees(
        application=application, answers=answers, on_date=on_date or timezone.localdate()
    )
    return breakdown


def get_billed_fees(*, application: Application) -> FeeBreakdown:
    """The breakdown as billed on submission (empty for a draft)."""
    return FeeBreakdown.from_json(application.fees or {})
