"""A version's parts checked together, and its smaller settings: the named checks and the
day of the year a permit rolls over."""

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kaunti.eservices.definitions.documents import DocumentSpec, parse_documents
from kaunti.eservices.definitions.form import FieldSpec, parse_form
from kaunti.eservices.definitions.workflow import StepSpec, parse_workflow


@dataclass(frozen=True)
class VersionDefinition:
    """A version's form, documents and workflow, checked and typed."""

    fields: tuple[FieldSpec, ...]
    documents: tuple[DocumentSpec, ...]
    steps: tuple[StepSpec, ...]


def parse_version(*, form: Any, documents: Any, workflow: Any) -> VersionDefinition:
    """A version's three definitions, each checked on its own."""
    return VersionDefinition(parse_form(form), parse_documents(documents), parse_workflow(workflow))


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
