"""DRF permission classes over the role matrix of `kaunti.accounts.permissions`.

`HasAction("payments.view_bills")` lets a request through when its user holds a role
granting the action in some department; views that act on one department's data check
`may(request, action, department)` again. Staff signed in with a session must have passed
the second factor in that session (as on the staff pages); an API token, issued by an
operator with `manage.py issue_api_token` to a named integration, counts as verified.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from kaunti.accounts.permissions import (
    has_any_permission,
    has_permission,
    remember_roles,
    roles_granting,
)
from kaunti.core.models import Department
from kaunti.core.permissions import has_verified_second_factor


def is_verified_api_caller(request: Request) -> bool:
    """Signed in, and either by token or by a session that passed the second factor."""
    user = request.user
    if not (user and user.is_authenticated):
        return False
    if isinstance(request.successful_authenticator, TokenAuthentication):
        return True
    return has_verified_second_factor(user)


def may(request: Request, action: str, department: Department | None = None) -> bool:
    """May the caller of `request` do `action` (in `department`, or in any department)?"""
    return is_verified_api_caller(request) and has_permission(request.user, action, department)


class _ActionPermission(BasePermission):
    """Granted when the caller may do any one of `actions` somewhere (see `HasAction`)."""

    actions: tuple[str, ...] = ()
    message = _("You do not have permission to perform this action.")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        is_staff = bool(user and user.is_authenticated and getattr(user, "is_county_staff", False))
        if is_staff and not is_verified_api_caller(request):
            self.message = _("Staff must sign in with their second factor to use the API.")
            return False
        if not is_verified_api_caller(request):
            return False
        # One query for this request's permission checks: this one, the view's and the
        # service's (the user object is this request's own).
        remember_roles(user)
        return has_any_permission(user, self.actions)


def HasAction(*actions: str) -> type[BasePermission]:
    """A permission class granting the request when the caller may do any of `actions`.

    An action missing from ACTION_ROLES fails here, when the view is defined, not when
    the first request arrives.
    """
    if not actions:
        raise ValueError("HasAction needs at least one action")
    for action in actions:
        roles_granting(action)
    return type(f"HasAction({', '.join(actions)})", (_ActionPermission,), {"actions": actions})


class IsCitizen(BasePermission):
    """A signed-in, active citizen (what they may see is then scoped to them)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(
            user and user.is_authenticated and user.is_active and getattr(user, "is_citizen", False)
        )
