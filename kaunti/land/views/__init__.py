"""The land pages: each module lists its own URL patterns (kaunti/land/urls.py joins them).

Staff pages need the second factor and a role granting the page's land action
(`staff_required`); the land register is the county's one register, so it is not split by
department. Every write goes through `kaunti.land.services`.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from kaunti.accounts.models import User
from kaunti.accounts.permissions import has_permission

VIEW_PARCELS = "land.view_parcels"
EDIT_PARCELS = "land.edit_parcels"
MANAGE_ROLL = "land.manage_roll"
APPROVE_ROLL = "land.approve_roll"
MANAGE_RATING = "land.manage_rating"
RUN_BILLING = "land.run_billing"
LAND_ACTIONS = (VIEW_PARCELS, EDIT_PARCELS, MANAGE_ROLL, APPROVE_ROLL, MANAGE_RATING, RUN_BILLING)


def signed_in_user(request: HttpRequest) -> User:
    """The person behind a request that `staff_required` let through."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("sign in first")
    return user


def land_permissions(user: Any) -> dict[str, bool]:
    """Which land actions `user` may do, for templates (`may.edit_parcels` ...)."""
    return {action.split(".", 1)[1]: has_permission(user, action) for action in LAND_ACTIONS}


def page_filters(request: HttpRequest) -> str:
    """The query string without `page`, for pagination links."""
    filters = request.GET.copy()
    filters.pop("page", None)
    return filters.urlencode()
