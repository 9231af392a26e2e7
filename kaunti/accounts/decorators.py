"""View guards for staff pages: signed in, second factor verified, and allowed the action."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from kaunti.accounts.permissions import has_permission

View = Callable[..., HttpResponse]


def staff_required(action: str) -> Callable[[View], View]:
    """Anonymous: to the staff sign-in. Citizens, staff without the second factor or
    without a role granting `action` (in any department): 403. Views that act on one
    department's data must check `has_permission(user, action, department)` again."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), "accounts:staff_sign_in")
            if not getattr(user, "is_verified", lambda: False)():
                raise PermissionDenied("staff pages need a second factor")
            if not has_permission(user, action):
                raise PermissionDenied(action)
            return view(request, *args, **kwargs)

        return guarded

    return decorate
