"""A service version's declarative parts: its form, its required documents, its workflow.

Operators write these as JSON (in the admin or the catalogue data files); this module
checks them when a version is saved or published, and reads them when an application is
filled in and processed. Field labels come in English and Kiswahili; validation
messages are given in the active language, with the field's label in that language.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from kaunti.accounts.models import Role
from kaunti.accounts.permissions import roles_granting
from kaunti.core.identifiers import normalise_kra_pin, normalise_national_id, normalise_phone

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_STEP_CODE = re.compile(r"^[a-z][a-z0-9-]{0,39}$")

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
KNOWN_CONTENT_TYPES = frozenset({PDF, JPEG, PNG})
HARD_MAXIMUM_BYTES = 10 * 1024 * 1024


def _pick(language: str, english: str, swahili: str) -> str:
    return swahili if language == "sw" and swahili else english


def current_language() -> str:
    """ "en" or "sw": the language messages and labels are given in right now."""
    return "sw" if (translation.get_language() or "en").startswith("sw") else "en"


# --- Form -----------------------------------------------------------------------------------


class FieldType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    CHOICE = "choice"
    DATE = "date"
    WARD = "ward"
    PHONE = "phone"
    NATIONAL_ID = "national_id"
    KRA_PIN = "kra_pin"
    FILE = "file"


@dataclass(frozen=True)
class Choice:
    value: str
    label_en: str
    label_sw: str

    def label(self, language: str) -> str:
        return _pick(language, self.label_en, self.label_sw)


@dataclass(frozen=True)
class FieldSpec:
    """One question of a service's form."""

    name: str
    type: FieldType
    label_en: str
    label_sw: str
    required: bool
    help_en: str = ""
    help_sw: str = ""
    section: str = ""
    max_length: int | None = None
    min_length: int | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    min_date: str = ""  # ISO date or "today"
    max_date: str = ""
    choices: tuple[Choice, ...] = ()
    document: str = ""  # file fields: the document kind the upload is kept as
    pattern: str = ""  # text fields: a regular expression the whole answer must match
    example: str = ""  # text fields: an answer that matches, shown when one does not
    upper_case: bool = False  # text fields: stored in capitals, spaces squeezed

    def label(self, language: str) -> str:
        return _pick(language, self.label_en, self.label_sw)

    def help(self, language: str) -> str:
        return _pick(language, self.help_en, self.help_sw)

    def choice_label(self, value: str, language: str) -> str:
        if self.type == FieldType.DATE and value:
            # Stored ISO (2026-12-07), read day first in the reader's language.
            try:
                day = date.fromisoformat(value)
            except ValueError:
                return value
            with translation.override(language):
                return formats.date_format(day)
        for choice in self.choices:
            if choice.value == value:
                return choice.label(language)
        return value


def _optional_decimal(raw: Any, what: str) -> Decimal | None:
    if raw is None:
        return None
    if isinstance(raw, float | bool):
        raise ValidationError(
            _("%(what)s must be written as a string or a whole number.") % {"what": what}
        )
    try:
        return Decimal(str(raw))
    except InvalidOperation as exc:
        raise ValidationError(_("%(what)s is not a number.") % {"what": what}) from exc


def _optional_int(raw: Any, what: str) -> int | None:
    if raw is None:
        return None
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
        raise ValidationError(_("%(what)s must be a whole number.") % {"what": what})
    return raw


def parse_form(raw: Any) -> tuple[FieldSpec, ...]:
    """Check a form definition (a JSON list of fields) and return it typed."""
    if not isinstance(raw, list):
        raise ValidationError(_("The form must be a list of fields."))
    fields: list[FieldSpec] = []
    seen: set[str] = set()
    for index, item in enumerate(raw, start=1):
        if not isinstance(item, Mapping):
            raise ValidationError(_("Field %(n)s is not an object.") % {"n": index})
        name = str(item.get("name", ""))
        if not _NAME.match(name):
            raise ValidationError(
                _("Field %(n)s: a name is lower-case letters, digits and _ (like business_name).")
                % {"n": index}
            )
        if name in seen:
            raise ValidationError(_("Two fields are named %(name)s.") % {"name": name})
        seen.add(name)
        try:
            field_type = FieldType(str(item.get("type", "")))
        except ValueError as exc:
            raise ValidationError(
                _("Field %(name)s has an unknown type.") % {"name": name}
            ) from exc
        if not item.get("label_en"):
            raise ValidationError(_("Field %(name)s needs an English label.") % {"name": name})
        choices = tuple(
            Choice(str(c["value"]), str(c.get("label_en", c["value"])), str(c.get("label_sw", "")))
            for c in item.get("choices", [])
        )
        if field_type == FieldType.CHOICE and not choices:
            raise ValidationError(_("Choice field %(name)s has no choices.") % {"name": name})
        if field_type == FieldType.FILE and not item.get("document"):
            raise ValidationError(_("File field %(name)s names no document kind.") % {"name": name})
        pattern = str(item.get("pattern", ""))
        if pattern:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValidationError(
                    _("Field %(name)s: the pattern is not a valid regular expression.")
                    % {"name": name}
                ) from exc
        fields.append(
            FieldSpec(
                name=name,
                type=field_type,
                label_en=str(item["label_en"]),
                label_sw=str(item.get("label_sw", "")),
                required=bool(item.get("required", False)),
                help_en=str(item.get("help_en", "")),
                help_sw=str(item.get("help_sw", "")),
                section=str(item.get("section", "")),
                max_length=_optional_int(item.get("max_length"), f"{name}.max_length"),
                min_length=_optional_int(item.get("min_length"), f"{name}.min_length"),
                minimum=_optional_decimal(item.get("min"), f"{name}.min"),
                maximum=_optional_decimal(item.get("max"), f"{name}.max"),
                min_date=str(item.get("min_date", "")),
                max_date=str(item.get("max_date", "")),
                choices=choices,
                document=str(item.get("document", "")),
                pattern=pattern,
                example=str(item.get("example", "")),
                upper_case=bool(item.get("upper_case", False)),
            )
        )
    return tuple(fields)


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


# --- Documents ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentSpec:
    """A document an applicant uploads: which kind, which file types, how large at most."""

    kind: str
    label_en: str
    label_sw: str
    required: bool
    content_types: frozenset[str]
    max_bytes: int
    # On a renewal a document may be skipped (the county has last year's), unless one of
    # the answers in `required_again_if_changed` differs from the renewed application's.
    required_on_renewal: bool = True
    required_again_if_changed: tuple[str, ...] = ()

    def label(self, language: str) -> str:
        return _pick(language, self.label_en, self.label_sw)

    def is_required(self, *, changed_answers: frozenset[str] | None) -> bool:
        """Whether this document must be uploaded: `changed_answers` is None for a new
        application, and the names of the answers changed since last time for a renewal."""
        if not self.required:
            return False
        if changed_answers is None or self.required_on_renewal:
            return True
        return bool(changed_answers & set(self.required_again_if_changed))


def parse_documents(raw: Any) -> tuple[DocumentSpec, ...]:
    """Check the list of documents a version asks for (PDF, JPEG, PNG only; 10 MB at most)."""
    if not isinstance(raw, list):
        raise ValidationError(_("Required documents must be a list."))
    specs: list[DocumentSpec] = []
    seen: set[str] = set()
    for item in raw:
        if not isinstance(item, Mapping):
            raise ValidationError(_("Each required document is an object."))
        kind = str(item.get("kind", ""))
        if not _NAME.match(kind) or kind in seen:
            raise ValidationError(
                _("Document kind %(kind)s is missing, malformed or repeated.") % {"kind": kind}
            )
        seen.add(kind)
        content_types = frozenset(item.get("content_types", [PDF]))
        if not content_types or not content_types <= KNOWN_CONTENT_TYPES:
            raise ValidationError(
                _("Document %(kind)s: allowed types are PDF, JPEG and PNG.") % {"kind": kind}
            )
        max_bytes = item.get("max_bytes", 5 * 1024 * 1024)
        if not isinstance(max_bytes, int) or not 0 < max_bytes <= HARD_MAXIMUM_BYTES:
            raise ValidationError(
                _("Document %(kind)s: the size limit must be between 1 byte and 10 MB.")
                % {"kind": kind}
            )
        again = item.get("required_again_if_changed", [])
        if not isinstance(again, list) or not all(isinstance(name, str) for name in again):
            raise ValidationError(
                _("Document %(kind)s: required_again_if_changed lists field names.")
                % {"kind": kind}
            )
        specs.append(
            DocumentSpec(
                kind=kind,
                label_en=str(item.get("label_en", kind)),
                label_sw=str(item.get("label_sw", "")),
                required=bool(item.get("required", True)),
                content_types=content_types,
                max_bytes=max_bytes,
                required_on_renewal=bool(item.get("required_on_renewal", True)),
                required_again_if_changed=tuple(again),
            )
        )
    return tuple(specs)


# --- Workflow -------------------------------------------------------------------------------


class StepKind(StrEnum):
    REVIEW = "review"
    INSPECTION = "inspection"
    APPROVAL = "approval"


# ACTION_ROLES is the one permission matrix: a step's kind decides the action checked, and
# the role a step names must be one that the matrix grants that action to.
STEP_ACTIONS: dict[StepKind, str] = {
    StepKind.REVIEW: "eservices.process_application",
    StepKind.INSPECTION: "eservices.inspect",
    StepKind.APPROVAL: "eservices.approve",
}


@dataclass(frozen=True)
class StepSpec:
    """One step of a service's workflow: who acts, in which department, within how long."""

    code: str
    kind: StepKind
    name_en: str
    name_sw: str
    role: str
    department: str  # department code; "" for the service's own department
    sla_hours: int
    after: tuple[str, ...]

    @property
    def action(self) -> str:
        return STEP_ACTIONS[self.kind]

    def name(self, language: str) -> str:
        return _pick(language, self.name_en, self.name_sw)


def parse_workflow(raw: Any) -> tuple[StepSpec, ...]:
    """Check a workflow: ordered steps, each waiting for the one before it unless `after` says
    otherwise (so inspections can run side by side and approval waits for all of them)."""
    if not isinstance(raw, list):
        raise ValidationError(_("The workflow must be a list of steps."))
    steps: list[StepSpec] = []
    seen: list[str] = []
    for item in raw:
        if not isinstance(item, Mapping):
            raise ValidationError(_("Each workflow step is an object."))
        code = str(item.get("code", ""))
        if not _STEP_CODE.match(code) or code in seen:
            raise ValidationError(
                _("Step code %(code)s is missing, malformed or repeated.") % {"code": code}
            )
        try:
            kind = StepKind(str(item.get("kind", "")))
        except ValueError as exc:
            raise ValidationError(
                _("Step %(code)s: the kind is review, inspection or approval.") % {"code": code}
            ) from exc
        role = str(item.get("role", ""))
        if role not in Role.values or role not in roles_granting(STEP_ACTIONS[kind]):
            raise ValidationError(
                _("Step %(code)s: role %(role)s may not act on a %(kind)s step.")
                % {"code": code, "role": role, "kind": kind}
            )
        after_raw = item.get("after")
        after = tuple(str(a) for a in after_raw) if after_raw is not None else tuple(seen[-1:])
        unknown = [a for a in after if a not in seen]
        if unknown:
            raise ValidationError(
                _("Step %(code)s waits for a step not listed before it: %(steps)s")
                % {"code": code, "steps": ", ".join(unknown)}
            )
        sla_hours = item.get("sla_hours", 72)
        if not isinstance(sla_hours, int) or isinstance(sla_hours, bool) or sla_hours <= 0:
            raise ValidationError(
                _("Step %(code)s: SLA hours must be a positive whole number.") % {"code": code}
            )
        steps.append(
            StepSpec(
                code=code,
                kind=kind,
                name_en=str(item.get("name_en", code)),
                name_sw=str(item.get("name_sw", "")),
                role=role,
                department=str(item.get("department", "")),
                sla_hours=sla_hours,
                after=after,
            )
        )
        seen.append(code)
    return tuple(steps)


# --- A version's parts together -----------------------------------------------------------


@dataclass(frozen=True)
class VersionDefinition:
    """A version's form, documents and workflow, checked and typed."""

    fields: tuple[FieldSpec, ...]
    documents: tuple[DocumentSpec, ...]
    steps: tuple[StepSpec, ...]


def parse_version(*, form: Any, documents: Any, workflow: Any) -> VersionDefinition:
    """A version's three definitions, each checked on its own."""
    return VersionDefinition(parse_form(form), parse_documents(documents), parse_workflow(workflow))


@dataclass(frozen=True)
class SectionSpec:
    """The heading of one short step of a form, in English and Kiswahili."""

    code: str
    title_en: str
    title_sw: str

    def title(self, language: str) -> str:
        return _pick(language, self.title_en, self.title_sw)


def parse_sections(raw: Any) -> tuple[SectionSpec, ...]:
    """Check the headings of a form's sections (a JSON list of code and titles)."""
    if not isinstance(raw, list):
        raise ValidationError(_("Sections must be a list."))
    sections: list[SectionSpec] = []
    for item in raw:
        if not isinstance(item, Mapping) or not _NAME.match(str(item.get("code", ""))):
            raise ValidationError(_("Each section has a code like business."))
        if not item.get("title_en"):
            raise ValidationError(
                _("Section %(code)s needs an English title.") % {"code": item["code"]}
            )
        sections.append(
            SectionSpec(str(item["code"]), str(item["title_en"]), str(item.get("title_sw", "")))
        )
    return tuple(sections)


def year_day(raw: str) -> tuple[int, int] | None:
    """ "12-01" as (12, 1): a day of any year (29 February is refused: not every year has it)."""
    match = re.fullmatch(r"([0-9]{2})-([0-9]{2})", raw or "")
    if match is None:
        return None
    month, day = int(match[1]), int(match[2])
    try:
        date(2001, month, day)
    except ValueError:
        return None
    return month, day


def parse_checks(raw: Any) -> tuple[str, ...]:
    """Check the list of named checks (names like land.rates_clear)."""
    if not isinstance(raw, list) or not all(
        isinstance(name, str) and re.fullmatch(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*", name)
        for name in raw
    ):
        raise ValidationError(_("Checks are a list of names like land.rates_clear."))
    return tuple(raw)


def group_into_sections(fields: Sequence[FieldSpec]) -> list[tuple[str, list[FieldSpec]]]:
    """The form split into short steps, by each field's `section` (in order of first use):
    a long form on a cheap phone is filled one section at a time."""
    sections: dict[str, list[FieldSpec]] = {}
    for spec in fields:
        sections.setdefault(spec.section, []).append(spec)
    return list(sections.items())
