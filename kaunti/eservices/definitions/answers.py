"""Answers to a form checked and normalised (phone as 2547..., dates ISO...), with the
messages, in the active language, for those that are wrong."""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from kaunti.core.identifiers import normalise_kra_pin, normalise_national_id, normalise_phone
from kaunti.eservices.definitions.form import FieldSpec, FieldType
from kaunti.eservices.definitions.language import current_language


def _date_bound(raw: str, today: date) -> date | None:
    if not raw:
        return None
    if raw == "today":
        return today
    return date.fromisoformat(raw)


def clean_answer(
    spec: FieldSpec, raw: str, *, ward_codes: frozenset[str], language: str, today: date
) -> str:
    """One answer, normalised (phone as 2547..., dates ISO...); `ValidationError` if wrong.

    An empty answer is returned empty: whether it may be empty is checked on submission,
    so a draft can be saved half done.
    """
    value = (raw or "").strip()
    if not value:
        return ""
    label = spec.label(language)
    if spec.type == FieldType.TEXT:
        if spec.upper_case:
            value = " ".join(value.upper().split())
        if spec.max_length is not None and len(value) > spec.max_length:
            raise ValidationError(
                _("%(label)s: at most %(n)s characters.") % {"label": label, "n": spec.max_length}
            )
        if spec.min_length is not None and len(value) < spec.min_length:
            raise ValidationError(
                _("%(label)s: at least %(n)s characters.") % {"label": label, "n": spec.min_length}
            )
        if spec.pattern and not re.fullmatch(spec.pattern, value):
            if spec.example:
                raise ValidationError(
                    _("%(label)s: write it like %(example)s.")
                    % {"label": label, "example": spec.example}
                )
            raise ValidationError(
                _("%(label)s: this is not in the expected form.") % {"label": label}
            )
        return value
    if spec.type == FieldType.NUMBER:
        try:
            number = Decimal(value.replace(",", ""))
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise ValidationError(_("%(label)s: enter a number, like 120.") % {"label": label})
        if spec.minimum is not None and number < spec.minimum:
            raise ValidationError(
                _("%(label)s: enter %(n)s or more.") % {"label": label, "n": spec.minimum}
            )
        if spec.maximum is not None and number > spec.maximum:
            raise ValidationError(
                _("%(label)s: enter %(n)s or less.") % {"label": label, "n": spec.maximum}
            )
        return f"{number.normalize():f}"
    if spec.type == FieldType.CHOICE:
        if value not in {choice.value for choice in spec.choices}:
            raise ValidationError(_("%(label)s: choose one of the options.") % {"label": label})
        return value
    if spec.type == FieldType.DATE:
        try:
            day = date.fromisoformat(value)
        except ValueError as exc:
            raise ValidationError(
                _("%(label)s: enter a date like 2026-03-31.") % {"label": label}
            ) from exc
        earliest, latest = _date_bound(spec.min_date, today), _date_bound(spec.max_date, today)
        if earliest is not None and day < earliest:
            raise ValidationError(
                _("%(label)s: the date cannot be before %(day)s.")
                % {"label": label, "day": formats.date_format(earliest)}
            )
        if latest is not None and day > latest:
            raise ValidationError(
                _("%(label)s: the date cannot be after %(day)s.")
                % {"label": label, "day": formats.date_format(latest)}
            )
        return day.isoformat()
    if spec.type == FieldType.WARD:
        if value not in ward_codes:
            raise ValidationError(_("%(label)s: choose a ward of this county.") % {"label": label})
        return value
    normalise = {
        FieldType.PHONE: normalise_phone,
        FieldType.NATIONAL_ID: normalise_national_id,
        FieldType.KRA_PIN: normalise_kra_pin,
    }.get(spec.type)
    if normalise is not None:
        try:
            return normalise(value)
        except ValidationError as exc:
            raise ValidationError(f"{label}: {' '.join(exc.messages)}") from exc
    # File fields carry no answer: their upload is a document of the application.
    return ""


@dataclass(frozen=True)
class CleanedAnswers:
    """Answers as they will be stored, and the messages for those that are wrong."""

    answers: dict[str, str]
    errors: dict[str, list[str]]


def clean_answers(
    fields: Sequence[FieldSpec],
    raw: Mapping[str, Any],
    *,
    ward_codes: frozenset[str],
    require_all: bool,
    today: date | None = None,
) -> CleanedAnswers:
    """Check each answer; keep what was typed where it is wrong, so nothing is lost."""
    language = current_language()
    today = today or timezone.localdate()
    answers: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for spec in fields:
        if spec.type == FieldType.FILE or spec.name not in raw:
            continue
        typed = "" if raw[spec.name] is None else str(raw[spec.name])
        try:
            answers[spec.name] = clean_answer(
                spec, typed, ward_codes=ward_codes, language=language, today=today
            )
        except ValidationError as exc:
            answers[spec.name] = typed.strip()
            errors[spec.name] = exc.messages
    if require_all:
        for spec in fields:
            if spec.required and spec.type != FieldType.FILE and not answers.get(spec.name):
                errors.setdefault(spec.name, []).append(
                    _("%(label)s: this is required.") % {"label": spec.label(language)}
                )
    return CleanedAnswers(answers, errors)
