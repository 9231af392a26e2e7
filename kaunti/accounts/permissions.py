""" "May this user do X in department D?": actions, the roles that grant them, one check.

Apps name their actions here (`app.verb_noun`) so the whole matrix can be read in one
place. A role held in a department also covers that department's directorates.
"""

from typing import Any

from django.core.exceptions import PermissionDenied

from kaunti.accounts.models import Role, RoleAssignment
from kaunti.core.models import Department

ACTION_ROLES: dict[str, frozenset[str]] = {
    # Accounts and the platform.
    "accounts.view_staff_home": frozenset(Role.values),
    "accounts.manage_roles": frozenset({Role.SUPERVISOR, Role.ICT_OFFICER}),
    "core.view_audit": frozenset({Role.AUDITOR, Role.ICT_OFFICER}),
    "core.view_jobs": frozenset({Role.ICT_OFFICER, Role.SUPERVISOR}),
    "core.view_outbox": frozenset({Role.ICT_OFFICER, Role.SUPERVISOR}),
    # Revenue (used by payments and ledger).
    "payments.raise_bill": frozenset({Role.REVENUE_OFFICER, Role.SUPERVISOR}),
    "payments.receive_payment": frozenset({Role.CASHIER}),
    "payments.cancel_receipt": frozenset({Role.SUPERVISOR}),
    "payments.view_reports": frozenset({Role.REVENUE_OFFICER, Role.SUPERVISOR, Role.AUDITOR}),
    "payments.view_bills": frozenset(
        {Role.REVENUE_OFFICER, Role.CASHIER, Role.SUPERVISOR, Role.AUDITOR}
    ),
    "payments.review_suspense": frozenset({Role.REVENUE_OFFICER, Role.SUPERVISOR}),
    "payments.reconcile": frozenset({Role.REVENUE_OFFICER, Role.SUPERVISOR}),
    "ledger.view": frozenset({Role.REVENUE_OFFICER, Role.SUPERVISOR, Role.AUDITOR}),
    "ledger.close_period": frozenset({Role.SUPERVISOR}),
    # Applications (used by e-services).
    "eservices.process_application": frozenset({Role.APPROVER, Role.SUPERVISOR}),
    "eservices.inspect": frozenset({Role.INSPECTOR}),
    "eservices.approve": frozenset({Role.APPROVER, Role.LAND_OFFICER}),
    "eservices.reassign": frozenset({Role.SUPERVISOR}),
    "eservices.view_applications": frozenset(
        {Role.APPROVER, Role.INSPECTOR, Role.SUPERVISOR, Role.AUDITOR, Role.LAND_OFFICER}
    ),
    "eservices.view_complaints": frozenset(
        {Role.APPROVER, Role.INSPECTOR, Role.SUPERVISOR, Role.AUDITOR}
    ),
    "eservices.handle_complaint": frozenset({Role.APPROVER, Role.INSPECTOR, Role.SUPERVISOR}),
    # Land (parcels, owners, the valuation roll, rates billing).
    "land.view_parcels": frozenset(
        {Role.LAND_OFFICER, Role.REVENUE_OFFICER, Role.SUPERVISOR, Role.AUDITOR}
    ),
    "land.edit_parcels": frozenset({Role.LAND_OFFICER, Role.SUPERVISOR}),
    "land.manage_roll": frozenset({Role.LAND_OFFICER, Role.SUPERVISOR}),
    "land.approve_roll": frozenset({Role.SUPERVISOR}),
    "land.manage_rating": frozenset({Role.SUPERVISOR}),
    "land.run_billing": frozenset({Role.REVENUE_OFFICER, Role.SUPERVISOR}),
}


def _department_and_ancestors(department: Department) -> list[int]:
    ids: list[int] = []
    current: Department | None = department
    while current is not None and current.pk not in ids:
        ids.append(current.pk)
        current = current.parent
    return ids


def roles_granting(action: str) -> frozenset[str]:
    try:
        return ACTION_ROLES[action]
    except KeyError:
        raise ValueError(f"unknown action {action!r}: add it to ACTION_ROLES") from None


def has_permission(user: Any, action: str, department: Department | None = None) -> bool:
    """True when `user` holds a role granting `action` in `department` (or a parent of it).

    With no department, any department will do (e.g. "may see a staff home at all").
    Citizens, anonymous and inactive users never hold staff permissions.
    """
    roles = roles_granting(action)
    if not (user and user.is_authenticated and user.is_active and user.is_county_staff):
        return False
    assignments = RoleAssignment.objects.filter(user=user, role__in=roles)
    if department is not None:
        assignments = assignments.filter(department_id__in=_department_and_ancestors(department))
    return assignments.exists()


def require_permission(user: Any, action: str, department: Department | None = None) -> None:
    """Raise `PermissionDenied` (a 403) unless `has_permission`."""
    if not has_permission(user, action, department):
        raise PermissionDenied(action)


def departments_where(user: Any, action: str) -> list[Department]:
    """The departments in which `user` may do `action` (directly assigned ones)."""
    if not (user and user.is_authenticated and user.is_county_staff):
        return []
    ids = RoleAssignment.objects.filter(user=user, role__in=roles_granting(action)).values_list(
        "department_id", flat=True
    )
    return list(Department.objects.filter(pk__in=ids))


def department_ids_where(user: Any, action: str) -> set[int]:
    """Departments where `user` may do `action`, with their directorates (a role held in a
    department covers its directorates, as `has_permission` decides)."""
    found = {department.pk for department in departments_where(user, action)}
    frontier = set(found)
    while frontier:
        children = set(
            Department.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
        )
        frontier = children - found
        found |= frontier
    return found
