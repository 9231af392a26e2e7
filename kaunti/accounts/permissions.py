""" "May this user do X in department D?": actions, the roles that grant them, one check.

Apps name their actions here (`app.verb_noun`) so the whole matrix can be read in one
place. A role held in a department also covers that department's directorates. An
auditor's role covers every department, wherever it is held (`COUNTY_WIDE_ROLES`). An
active staff superuser (the deployment's administrator) passes every action check in
every department (ADR 14).
"""

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from kaunti.accounts.models import Role, RoleAssignment, UserKind
from kaunti.core.models import Department

ACTION_ROLES: dict[str, frozenset[str]] = {
    # Accounts and the platform.
    "accounts.view_staff_home": frozenset(Role.values),
    "accounts.manage_roles": frozenset({Role.SUPERVISOR, Role.ICT_OFFICER}),
    "core.view_audit": frozenset({Role.AUDITOR, Role.ICT_OFFICER}),
    "core.view_jobs": frozenset({Role.ICT_OFFICER, Role.SUPERVISOR}),
    "core.view_outbox": frozenset({Role.ICT_OFFICER, Role.SUPERVISOR}),
    "core.view_metrics": frozenset({Role.ICT_OFFICER}),
    "core.run_scheduled_jobs": frozenset({Role.ICT_OFFICER}),
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


# Internal audit examines the whole county government (Public Finance Management Act
# 2012, s. 155), so an auditor's role, in whichever department it is held, covers every
# department. Such a role may only grant actions that read: `test_permissions` holds it
# to that.
COUNTY_WIDE_ROLES: frozenset[str] = frozenset({Role.AUDITOR})


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


def _may_hold_roles(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_county_staff)


def _is_administrator(user: Any) -> bool:
    """An active staff superuser: the person who runs the deployment and may already change
    anything through the Django admin. Refusing them on the pages and the API would only
    send them to the admin, past the services' rules; letting them through keeps them on
    the services, which still apply every rule about persons (no one approves their own
    request) and name them in the audit chain (ADR 14)."""
    return _may_hold_roles(user) and bool(getattr(user, "is_superuser", False))


# Where `remember_roles` keeps a user's role assignments on the user object itself.
_REMEMBERED_ROLES = "_kaunti_remembered_roles"


def remember_roles(user: Any) -> None:
    """Read all of `user`'s role assignments once (one query) and answer the permission
    checks on this same user object from them from now on.

    For a user object that lives as long as one request (the one DRF authenticated):
    the API's permission class, the view's "may view" check and the service's "may act"
    check then cost one query between them. A role given or taken away later is not seen
    by this object; a new request loads the user, and so the roles, afresh.
    """
    if _may_hold_roles(user):
        assignments = RoleAssignment.objects.filter(user=user).values_list("role", "department_id")
        setattr(user, _REMEMBERED_ROLES, frozenset(assignments))


def _remembered(user: Any) -> frozenset[tuple[str, int]] | None:
    remembered: frozenset[tuple[str, int]] | None = getattr(user, _REMEMBERED_ROLES, None)
    return remembered


def has_permission(user: Any, action: str, department: Department | None = None) -> bool:
    """True when `user` holds a role granting `action` in `department` (or a parent of it).

    With no department, any department will do (e.g. "may see a staff home at all").
    Citizens, anonymous and inactive users never hold staff permissions.
    """
    if department is None:
        return has_any_permission(user, [action])
    return has_permission_in_any(user, action, [department])


def has_any_permission(user: Any, actions: Iterable[str]) -> bool:
    """True when `user` may do at least one of `actions` in some department: one query
    for all of them (what a view open to several kinds of officer asks first)."""
    roles = frozenset().union(*(roles_granting(action) for action in actions))
    if not _may_hold_roles(user):
        return False
    if _is_administrator(user):
        return True
    if (remembered := _remembered(user)) is not None:
        return any(role in roles for role, _department_id in remembered)
    return RoleAssignment.objects.filter(user=user, role__in=roles).exists()


def has_permission_in_any(user: Any, action: str, departments: Iterable[Department]) -> bool:
    """True when `user` may do `action` in at least one of `departments` (or a parent of
    one): one query, however many departments (e.g. every department an application's
    steps sit in)."""
    roles = roles_granting(action)
    if not _may_hold_roles(user):
        return False
    ids: set[int] = set()
    for department in departments:
        ids.update(_department_and_ancestors(department))
    if not ids:
        return False
    if _is_administrator(user):
        return True
    county_wide = roles & COUNTY_WIDE_ROLES
    if (remembered := _remembered(user)) is not None:
        return any(
            role in roles and (department_id in ids or role in county_wide)
            for role, department_id in remembered
        )
    return (
        RoleAssignment.objects.filter(user=user, role__in=roles)
        .filter(Q(department_id__in=ids) | Q(role__in=county_wide))
        .exists()
    )


def require_permission(user: Any, action: str, department: Department | None = None) -> None:
    """Raise `PermissionDenied` (a 403) unless `has_permission`."""
    if not has_permission(user, action, department):
        raise PermissionDenied(action)


def departments_where(user: Any, action: str) -> list[Department]:
    """The departments in which `user` may do `action` (directly assigned ones; all of
    them for a county-wide role or an administrator)."""
    if not (user and user.is_authenticated and user.is_county_staff):
        return []
    roles_granting(action)
    if _is_administrator(user):
        return list(Department.objects.all())
    held = RoleAssignment.objects.filter(user=user, role__in=roles_granting(action))
    if held.filter(role__in=COUNTY_WIDE_ROLES).exists():
        return list(Department.objects.all())
    return list(Department.objects.filter(pk__in=held.values_list("department_id", flat=True)))


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


def department_ids_anyone_may(action: str) -> set[int]:
    """Departments (with their directorates) where at least one active staff member holds
    a role granting `action`: work routed anywhere else has nobody to do it."""
    held = RoleAssignment.objects.filter(
        role__in=roles_granting(action), user__is_active=True, user__kind=UserKind.STAFF
    )
    if held.filter(role__in=COUNTY_WIDE_ROLES).exists():
        return set(Department.objects.values_list("pk", flat=True))
    found = set(held.values_list("department_id", flat=True))
    frontier = set(found)
    while frontier:
        children = set(
            Department.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
        )
        frontier = children - found
        found |= frontier
    return found
