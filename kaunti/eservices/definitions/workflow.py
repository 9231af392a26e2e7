"""A version's workflow: ordered steps, each with the role that acts on it, its department
and its SLA, waiting for the steps it names (or the one before it)."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kaunti.accounts.models import Role
from kaunti.accounts.permissions import roles_granting
from kaunti.eservices.definitions.language import pick

_STEP_CODE = re.compile(r"^[a-z][a-z0-9-]{0,39}$")


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
        return pick(language, self.name_en, self.name_sw)


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
