"""Eligibility checks that one app contributes to another app's e-services, by name.

Sibling apps on the same tier (e-services and land) may not import each other. A service
in the catalogue names the checks it needs (for example `land.rates_clear` for a rates
clearance certificate); the app that knows the answer registers a function under that
name in its `AppConfig.ready`. E-services runs the named checks on the applicant's answers
when they submit and again before it issues the document, and refuses with the check's
message when one fails. A check that is named but not registered fails: a missing hook
refuses, never allows.

The registry is filled once at start-up, identically on every node, and only read after.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class CheckResult:
    """`ok` says whether the application may go on; `message` (in the user's language)
    says why not. `facts` are printed on the issued document (e.g. parcel number, owners)."""

    ok: bool
    message: str = ""
    facts: Mapping[str, str] = field(default_factory=dict)


# Called with the application's answers (field name to the value typed).
ServiceCheck = Callable[[Mapping[str, str]], CheckResult]

_checks: dict[str, ServiceCheck] = {}


def register_service_check(name: str, check: ServiceCheck) -> None:
    existing = _checks.get(name)
    if existing is not None and existing is not check:
        raise ValueError(f"a service check named {name!r} is already registered")
    _checks[name] = check


def run_service_check(name: str, answers: Mapping[str, str]) -> CheckResult:
    """Run the check registered as `name`; an unknown name refuses."""
    check = _checks.get(name)
    if check is None:
        return CheckResult(ok=False, message=_("This service is not available at the moment."))
    return check(answers)
