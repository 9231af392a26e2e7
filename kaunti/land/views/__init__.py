"""The land pages: each module lists its own URL patterns (kaunti/land/urls.py joins them).

Staff pages need the second factor and a role granting the page's land action held in a
department that does the land work (`land_staff_required`; the rule is
`kaunti.land.permissions`): a role in Lands for every land action, and a role in the
Revenue Directorate, which collects rates, for reading parcels and running the rates
billing. A role held in any other department (a supervisor of Health, say) opens no land
page; only an auditor's, which is county-wide (ADR 11), still reads them. Within those departments the register is not split further: it is the county's one
register. Every write goes through `kaunti.land.services`.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from kaunti.accounts.decorators import staff_required
from kaunti.accounts.permissions import remember_roles
from kaunti.land.permissions import land_department_codes, may

View = Callable[..., HttpResponse]


def land_staff_required(action: str) -> Callable[[View], View]:
    """`staff_required(action)` (signed in, second factor, a role granting `action`), and
    that role held in one of the action's land departments (`kaunti.land.permissions`).

    The request's user reads its roles once (`remember_roles`), so this check and the
    page's `land_permissions` cost one query between them.
    """
    land_department_codes(action)  # an unknown action fails here, when the view is defined

    def decorate(view: View) -> View:
        @wraps(view)
        def in_land_department(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            remember_roles(request.user)
            if not may(request.user, action):
                raise PermissionDenied(action)
            return view(request, *args, **kwargs)

        return staff_required(action)(in_land_department)

    return decorate


def page_filters(request: HttpRequest) -> str:
    """The query string without `page`, for pagination links."""
    filters = request.GET.copy()
    filters.pop("page", None)
    return filters.urlencode()
