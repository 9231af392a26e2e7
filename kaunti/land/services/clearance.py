"""The rates clearance check behind the "Rates clearance certificate" e-service.

E-services runs it by name (`land.rates_clear`, see `kaunti.core.service_checks`) when
an application is submitted and again before the certificate is issued: a parcel that
owes anything, penalties included, is refused (National Rating Act 2024: rates are a
charge on the land, and clearance is given only when they are paid).
"""

from collections.abc import Mapping

from django.utils.translation import gettext as _

from kaunti.core.money import format_kes
from kaunti.core.service_checks import CheckResult
from kaunti.land.selectors.balances import parcel_amount_owed
from kaunti.land.selectors.parcels import current_ownerships, get_parcel_by_number, owner_names

RATES_CLEAR_CHECK = "land.rates_clear"


def check_rates_clear(answers: Mapping[str, str]) -> CheckResult:
    """Allow a clearance certificate only for a known parcel that owes nothing."""
    number = str(answers.get("parcel_number") or "").strip()
    parcel = get_parcel_by_number(number=number) if number else None
    if parcel is None:
        return CheckResult(
            ok=False,
            message=_("We have no parcel numbered %(number)s. Check the number on the title.")
            % {"number": number or "-"},
        )
    owed = parcel_amount_owed(parcel=parcel)
    if owed > 0:
        return CheckResult(
            ok=False,
            message=_(
                "Parcel %(number)s owes %(amount)s in land rates. Pay it first, then apply again."
            )
            % {"number": parcel.number, "amount": format_kes(owed)},
        )
    return CheckResult(
        ok=True,
        facts={
            "parcel_number": parcel.number,
            "owners": owner_names(current_ownerships(parcel=parcel), limit=200),
            "ward": parcel.ward.name,
        },
    )
