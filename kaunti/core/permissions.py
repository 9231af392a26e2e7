"""Staff permission checks for the kernel's own pages, without the kernel importing accounts.

`core` is the lowest tier, so it cannot call `kaunti.accounts.permissions` (who holds
which role lives there). Instead the accounts app registers its checker at start-up
(`AccountsConfig.ready`), the way owners register settlement handlers with payments.
Until a checker is registered every check fails: a missing hook denies, never allows.
"""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied

# Answers "may this user do this action?"; e.g. kaunti.accounts.permissions.has_permission.
PermissionChecker = Callable[[Any, str], bool]


class PermissionRegistry:
    """The checkers consulted for an action; any one of them saying yes grants it."""

    def __init__(self) -> None:
        self._checkers: list[PermissionChecker] = []

    def register(self, checker: PermissionChecker) -> None:
        """Add a checker; registering the same one again is a no-op (ready() may run twice)."""
        if checker not in self._checkers:
            self._checkers.append(checker)

    def unregister(self, checker: PermissionChecker) -> None:
        if checker in self._checkers:
            self._checkers.remove(checker)

    def is_registered(self, checker: PermissionChecker) -> bool:
        return checker in self._checkers

    def allows(self, user: Any, action: str) -> bool:
        return any(checker(user, action) for checker in self._checkers)

    def check(self, user: Any, action: str) -> None:
        """Raise `PermissionDenied` (a 403) unless a registered checker grants `action`."""
        if not self.allows(user, action):
            raise PermissionDenied(action)


# Filled once at start-up by AppConfig.ready() and only read afterwards.
registry = PermissionRegistry()


def register_permission_checker(checker: PermissionChecker) -> None:
    """Let `checker` grant actions on the kernel's pages (call from `AppConfig.ready`)."""
    registry.register(checker)


def check(user: Any, action: str) -> None:
    """Raise `PermissionDenied` unless a registered checker grants `user` the `action`."""
    registry.check(user, action)


def has_verified_second_factor(user: Any) -> bool:
    """True when this session passed the second factor (django-otp marks verified users)."""
    is_verified = getattr(user, "is_verified", None)
    return bool(user.is_authenticated and callable(is_verified) and is_verified())


def check_staff(user: Any, action: str) -> None:
    """Staff pages and their API: the second factor in this session, then the action."""
    if not has_verified_second_factor(user):
        raise PermissionDenied("this page needs a verified second factor")
    check(user, action)
