"""The e-services pages: each module lists its own URL patterns."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from kaunti.accounts.models import User


def signed_in_user(request: HttpRequest) -> User:
    """The person behind a request that `login_required`/`staff_required` let through."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("sign in first")
    return user
