"""Land rates in the demo history: the year's rates billed (through the land billing
run, as the revenue office would) a few days into the history, then paid by most owners
by the due date or after it, in part by some, not at all by others.

The year billed is the financial year of the history's first weeks (2025/26 for a
history ending in December 2026), so the current year's billing is left for a person to
run from the demo's billing page."""

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from kaunti.accounts.models import Role
from kaunti.core.models import Department
from kaunti.demo.history.money import BANK, CASH, PAYBILL, STK, Money, local
from kaunti.demo.history.people import Staff
from kaunti.demo.history.timeline import Timeline
from kaunti.land.demo import DEMO_RULES
from kaunti.land.models import ParcelCharge, RatingYear, RollStatus, ValuationRoll
from kaunti.land.services.billing import bill_rates
from kaunti.land.services.rating import set_rating_rule, set_rating_year
from kaunti.payments.models import Bill
from kaunti.payments.numbering import financial_year

CHANNELS = ((PAYBILL, 50), (BANK, 22), (STK, 16), (CASH, 12))


@dataclass
class LandRates:
    rng: random.Random
    timeline: Timeline
    staff: Staff
    money: Money

    def plan(self, start: date) -> None:
        """Bill on the first Monday after the history's first week, at ten."""
        day = start + timedelta(days=7)
        day += timedelta(days=(7 - day.weekday()) % 7)
        year = financial_year(day)
        if RatingYear.objects.filter(financial_year=year).exists():
            return  # this year's terms were set by someone else: leave its billing to them
        if not ValuationRoll.objects.filter(status=RollStatus.PUBLISHED).exists():
            return
        self.timeline.at(local(day, 10), lambda: self._bill(year))

    def _bill(self, year: int) -> None:
        lands = Department.objects.get(code="lands")
        supervisor = self.staff.holding(Role.SUPERVISOR, lands)
        today = timezone.localdate()
        due_on = min(max(date(year + 1, 3, 31), today + timedelta(days=60)), date(year + 1, 6, 30))
        rating_year = set_rating_year(
            financial_year=year,
            due_on=due_on,
            penalty_percent_per_month=Decimal("1.00"),
            actor=supervisor,
        )
        for land_use, percent, minimum in DEMO_RULES:
            set_rating_rule(
                rating_year=rating_year,
                land_use=land_use,
                rate_percent=percent,
                minimum_charge=minimum,
                actor=supervisor,
            )
        officer = self.staff.holding(Role.REVENUE_OFFICER, Department.objects.get(code="revenue"))
        run = bill_rates(financial_year=year, actor=officer)
        bills = Bill.objects.filter(
            pk__in=ParcelCharge.objects.filter(run=run).values("bill_id")
        ).order_by("pk")
        for bill in bills:
            roll = self.rng.random()
            if roll < 0.25:
                continue  # not paid: arrears on the parcel
            amount = bill.total
            if roll < 0.35 and bill.total >= 1000:
                amount = (bill.total / 2).quantize(Decimal(1))
            # Most pay in the weeks before the due date; some late.
            spread = (due_on - today).days
            offset = int(self.rng.triangular(3, spread + 90, spread - 10))
            channel = self.rng.choices([c for c, _w in CHANNELS], [w for _c, w in CHANNELS])[0]
            self.money.pay_on(bill, channel, today + timedelta(days=offset), amount)
