"""Who may do the land actions: a role granting the action (`kaunti.accounts.permissions`)
held in a department that does the land work, or in a parent of that department.

The land register is the county's one register, kept by Lands: only a role held in
`lands` reads or changes parcels, the valuation roll and the rating rules. The Revenue
Directorate collects rates for the county (`RATES_COLLECTING_DEPARTMENT`), so a role held
in `revenue` (or in `finance`, above it) also starts the rates billing and reads parcels
to answer rate payers. A role held anywhere else (a supervisor of Health, say) grants no
land action. An auditor's role still reads parcels from any department: it is
county-wide (`COUNTY_WIDE_ROLES`, ADR 11), and `has_permission_in_any` decides. The pages
(`kaunti.land.views.land_staff_required`), their templates (`land_permissions`) and the
API (`kaunti.land.api.HasLandAction`) all ask `may`.
"""

from collections.abc import Iterable
from typing import Any

from kaunti.accounts.permissions import has_permission_in_any, roles_granting
from kaunti.core.models import Department
from kaunti.land.models import RATES_COLLECTING_DEPARTMENT

VIEW_PARCELS = "land.view_parcels"
EDIT_PARCELS = "land.edit_parcels"
MANAGE_ROLL = "land.manage_roll"
APPROVE_ROLL = "land.approve_roll"
MANAGE_RATING = "land.manage_rating"
RUN_BILLING = "land.run_billing"
LAND_ACTIONS = (VIEW_PARCELS, EDIT_PARCELS, MANAGE_ROLL, APPROVE_ROLL, MANAGE_RATING, RUN_BILLING)

LANDS_DEPARTMENT = "lands"

# The departments (by code) whose roles grant each land action.
ACTION_DEPARTMENTS: dict[str, frozenset[str]] = {
    VIEW_PARCELS: frozenset({LANDS_DEPARTMENT, RATES_COLLECTING_DEPARTMENT}),
    EDIT_PARCELS: frozenset({LANDS_DEPARTMENT}),
    MANAGE_ROLL: frozenset({LANDS_DEPARTMENT}),
    APPROVE_ROLL: frozenset({LANDS_DEPARTMENT}),
    MANAGE_RATING: frozenset({LANDS_DEPARTMENT}),
    RUN_BILLING: frozenset({LANDS_DEPARTMENT, RATES_COLLECTING_DEPARTMENT}),
}


def land_department_codes(action: str) -> frozenset[str]:
    """The codes of the departments whose roles grant the land `action`; an action that
    is not a land action (or not in ACTION_ROLES) raises `ValueError`."""
    roles_granting(action)
    try:
        return ACTION_DEPARTMENTS[action]
    except KeyError:
        raise ValueError(f"{action!r} is not a land action") from None


def _departments_by_code(codes: Iterable[str]) -> dict[str, Department]:
    # With their parents loaded, so that the ancestor walk of `has_permission_in_any`
    # costs no query for a directorate such as `revenue` (under `finance`).
    rows = Department.objects.filter(code__in=set(codes)).select_related("parent__parent")
    return {department.code: department for department in rows}


def may(user: Any, *actions: str) -> bool:
    """May `user` do at least one of the land `actions`? Only through a role held in one of
    the action's departments (or a parent of one); citizens and anonymous users never may."""
    codes = {code for action in actions for code in land_department_codes(action)}
    if not getattr(user, "is_authenticated", False):
        return False
    departments = _departments_by_code(codes)
    return any(_holds(user, action, departments) for action in actions)


def land_permissions(user: Any) -> dict[str, bool]:
    """Which land actions `user` may do, for templates (`may.edit_parcels` ...): one query
    for the departments, then one per action (none when the user's roles are remembered)."""
    departments = _departments_by_code(
        code for action in LAND_ACTIONS for code in ACTION_DEPARTMENTS[action]
    )
    return {action.split(".", 1)[1]: _holds(user, action, departments) for action in LAND_ACTIONS}


def _holds(user: Any, action: str, departments: dict[str, Department]) -> bool:
    held_in = [departments[code] for code in ACTION_DEPARTMENTS[action] if code in departments]
    return has_permission_in_any(user, action, held_in)
