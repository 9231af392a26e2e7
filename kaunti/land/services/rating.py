"""Rating rules: the rate on site value by land use or zone, the minimum, due dates,
penalties and waiver campaigns (National Rating Act 2024; the county's rating law)."""

import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kaunti.core.money import ZERO, kes
from kaunti.core.services.audit import record_event
from kaunti.land.models import LandUse, RatingRule, RatingYear, WaiverCampaign

_YEAR = re.compile(
    r"^\s*(?:FY)?\s*([0-9]{4})\s*(?:[/-]\s*([0-9]{2}|[0-9]{4}))?\s*$", re.IGNORECASE | re.ASCII
)


def parse_financial_year(text: str) -> int:
    """`"2026/27"`, `"2026-2027"` or `"2026"` -> 2026 (July 2026 to June 2027)."""
    match = _YEAR.match(text or "")
    if not match:
        raise ValidationError(_("Enter a financial year like 2026/27."), code="financial_year")
    start = int(match.group(1))
    if match.group(2):
        end = int(match.group(2))
        if end % 100 != (start + 1) % 100:
            raise ValidationError(_("Enter a financial year like 2026/27."), code="financial_year")
    return start


def format_financial_year(year: int) -> str:
    """2026 -> `"2026/27"`."""
    return f"{year}/{(year + 1) % 100:02d}"


def financial_year_start(year: int) -> date:
    return date(year, 7, 1)


def compute_rates(
    *, site_value: Decimal, rate_percent: Decimal, minimum_charge: Decimal
) -> Decimal:
    """The year's rates: `rate_percent` of the site value, rounded half-up to the cent, and
    never less than the minimum charge (which therefore also applies to land valued at 0).
    """
    if site_value < 0 or rate_percent < 0 or minimum_charge < 0:
        raise ValueError("site value, rate and minimum must not be negative")
    charge = kes(Decimal(site_value) * Decimal(rate_percent) / Decimal(100))
    return max(charge, kes(minimum_charge))


def compute_penalty(*, arrears: Decimal, percent_per_month: Decimal) -> Decimal:
    """One month's penalty on unpaid rates, half-up to the cent (0 when nothing is owed)."""
    if arrears <= 0 or percent_per_month <= 0:
        return ZERO
    return kes(Decimal(arrears) * Decimal(percent_per_month) / Decimal(100))


def choose_rule(rules: Iterable[RatingRule], *, land_use: str, zone: str) -> RatingRule | None:
    """The most specific rule for a parcel: land use and zone, then land use, then zone,
    then the year's general rule."""
    by_key = {(rule.land_use, rule.zone): rule for rule in rules}
    for key in ((land_use, zone), (land_use, ""), ("", zone), ("", "")):
        if key in by_key:
            return by_key[key]
    return None


@transaction.atomic
def set_rating_year(
    *, financial_year: int, due_on: date, penalty_percent_per_month: Decimal, actor: Any | None
) -> RatingYear:
    """Set a year's due date and monthly penalty rate (created, or changed with an audit)."""
    if not (financial_year_start(financial_year) <= due_on <= date(financial_year + 1, 6, 30)):
        raise ValidationError({"due_on": [_("The due date must fall within the financial year.")]})
    if penalty_percent_per_month < 0 or penalty_percent_per_month > 100:
        raise ValidationError(
            {"penalty_percent_per_month": [_("Enter a percentage from 0 to 100.")]}
        )
    rating_year, created = RatingYear.objects.select_for_update().get_or_create(
        financial_year=financial_year,
        defaults={
            "due_on": due_on,
            "penalty_percent_per_month": penalty_percent_per_month,
            "created_by": actor if getattr(actor, "is_authenticated", False) else None,
        },
    )
    if not created:
        rating_year.due_on = due_on
        rating_year.penalty_percent_per_month = penalty_percent_per_month
        rating_year.save(update_fields=["due_on", "penalty_percent_per_month"])
    record_event(
        actor=actor,
        action="land.rating_year_set",
        target=rating_year,
        data={"year": financial_year, "due_on": due_on, "penalty": penalty_percent_per_month},
    )
    return rating_year


@transaction.atomic
def set_rating_rule(
    *,
    rating_year: RatingYear,
    land_use: str = "",
    zone: str = "",
    rate_percent: Decimal,
    minimum_charge: Decimal,
    actor: Any | None,
) -> RatingRule:
    """Set the rate and minimum for a land use and/or zone in a year (blank: any)."""
    errors: dict[str, list[str]] = {}
    if land_use and land_use not in LandUse.values:
        errors["land_use"] = [_("Choose a land use.")]
    if not (ZERO <= rate_percent <= 100):
        errors["rate_percent"] = [_("Enter a percentage from 0 to 100.")]
    if minimum_charge < 0:
        errors["minimum_charge"] = [_("The minimum charge cannot be negative.")]
    if errors:
        raise ValidationError(errors)
    zone = " ".join(zone.split()).upper()
    rule, _created = RatingRule.objects.update_or_create(
        rating_year=rating_year,
        land_use=land_use,
        zone=zone,
        defaults={"rate_percent": rate_percent, "minimum_charge": kes(minimum_charge)},
    )
    record_event(
        actor=actor,
        action="land.rating_rule_set",
        target=rule,
        data={
            "year": rating_year.financial_year,
            "land_use": land_use,
            "zone": zone,
            "rate_percent": rate_percent,
            "minimum_charge": kes(minimum_charge),
        },
    )
    return rule


@transaction.atomic
def create_waiver_campaign(
    *, name: str, starts_on: date, ends_on: date, actor: Any | None
) -> WaiverCampaign:
    """Open a campaign during which monthly penalties are not charged."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": [_("Name the campaign.")]})
    if ends_on < starts_on:
        raise ValidationError({"ends_on": [_("The campaign must end on or after its start.")]})
    campaign = WaiverCampaign.objects.create(
        name=name[:150],
        starts_on=starts_on,
        ends_on=ends_on,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    record_event(
        actor=actor,
        action="land.waiver_campaign_created",
        target=campaign,
        data={"name": campaign.name, "from": starts_on, "to": ends_on},
    )
    return campaign


def is_waived(*, on: date) -> bool:
    """True when a waiver campaign covers the day: no penalty is charged for it."""
    return WaiverCampaign.objects.filter(starts_on__lte=on, ends_on__gte=on).exists()
