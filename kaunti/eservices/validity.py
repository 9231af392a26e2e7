"""How long an issued document is valid: the version's rule applied to the day of issue."""

import calendar
from datetime import date, timedelta

from kaunti.eservices.definitions.version import year_day
from kaunti.eservices.models import ValidityRule


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it is shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def valid_until_for(
    *, rule: str, months: int | None, issued_on: date, next_year_from: str = ""
) -> date | None:
    """The last day a document issued on `issued_on` is valid, or None for no expiry.

    Calendar-year permits: a permit issued in December to 31 December of the same year
    would be worth a few weeks, while the county asks businesses to renew between
    December and 31 March (the late-renewal penalty starts after 31 March). So, where the
    version says so (`next_year_from`, e.g. "12-01"), a permit issued on or after that day
    covers the whole next calendar year. We keep the calendar year rather than Kiambu's
    "12 months from issue" (reference kenya.md 3.3: validity rules differ by county) so
    that every Nyandarua permit still ends on 31 December and renewals line up.
    """
    if rule == ValidityRule.TO_31_DECEMBER:
        year = issued_on.year
        rollover = year_day(next_year_from)
        if rollover is not None and issued_on >= date(year, *rollover):
            year += 1
        return date(year, 12, 31)
    if rule == ValidityRule.MONTHS and months:
        return add_months(issued_on, months) - timedelta(days=1)
    return None
