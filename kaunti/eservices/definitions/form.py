"""A version's form: its questions (fields) and the sections a long form is filled in."""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import formats, translation
from django.utils.translation import gettext as _

from kaunti.eservices.definitions.language import pick

# How a field is named; document kinds and section codes are named the same way.
NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


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
        return pick(language, self.label_en, self.label_sw)


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
        return pick(language, self.label_en, self.label_sw)

    def help(self, language: str) -> str:
        return pick(language, self.help_en, self.help_sw)

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
        if not NAME.match(name):
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


@dataclass(frozen=True)
class SectionSpec:
    """The heading of one short step of a form, in English and Kiswahili."""

    code: str
    title_en: str
    title_sw: str

    def title(self, language: str) -> str:
        return pick(language, self.title_en, self.title_sw)


def parse_sections(raw: Any) -> tuple[SectionSpec, ...]:
    """Check the headings of a form's sections (a JSON list of code and titles)."""
    if not isinstance(raw, list):
        raise ValidationError(_("Sections must be a list."))
    sections: list[SectionSpec] = []
    for item in raw:
        if not isinstance(item, Mapping) or not NAME.match(str(item.get("code", ""))):
            raise ValidationError(_("Each section has a code like business."))
        if not item.get("title_en"):
            raise ValidationError(
                _("Section %(code)s needs an English title.") % {"code": item["code"]}
            )
        sections.append(
            SectionSpec(str(item["code"]), str(item["title_en"]), str(item.get("title_sw", "")))
        )
    return tuple(sections)


def group_into_sections(fields: Sequence[FieldSpec]) -> list[tuple[str, list[FieldSpec]]]:
    """The form split into short steps, by each field's `section` (in order of first use):
    a long form on a cheap phone is filled one section at a time."""
    sections: dict[str, list[FieldSpec]] = {}
    for spec in fields:
        sections.setdefault(spec.section, []).append(spec)
    return list(sections.items())
