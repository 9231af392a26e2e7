"""A year of demo history: what a visitor of the demo should find, as a county would have it.

`load_history` plays a year of a county's life through the project's own services, in
time order, with the services' clock set to each moment (`clock.py`): residents register,
bills are raised and paid by M-Pesa prompt, paybill and at the counter, tills are opened
and closed, a few receipts are cancelled, applications go through their workflows and
complaints are handled. The ledger, the receipt numbers and the audit chain are the
services' own, so they balance, run without gaps and verify.

Deterministic (one seeded `random.Random`; bill numbers, verification codes and passwords
are still drawn by the services) and idempotent: the history is loaded in one transaction,
and not again once its cashiers exist.
"""

import logging
import random
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from kaunti.accounts.models import User
from kaunti.core.services import outbox
from kaunti.demo.history.applications import Applications
from kaunti.demo.history.clock import travelling_clock
from kaunti.demo.history.complaints import Complaints
from kaunti.demo.history.land import LandRates
from kaunti.demo.history.money import MARKETS, Money, local
from kaunti.demo.history.people import CASHIERS, Citizens, Staff
from kaunti.demo.history.timeline import Timeline

DEFAULT_PAYMENTS = 400  # on everyday bills; land rates and fees of applications come on top
DAYS = 365
SEED = 18  # Nyandarua's county code
# Bills a day by weekday (Monday first): markets and offices are busiest early in the week.
WEEKDAY_WEIGHTS = (1.2, 1.1, 1.1, 1.0, 1.15, 0.8, 0.35)
# Months by number: business picks up at harvest (potatoes, July to September and
# December to February) and around the new year's permits.
MONTH_WEIGHTS = {1: 1.3, 2: 1.2, 3: 1.25, 4: 0.9, 5: 0.85, 6: 0.95, 7: 1.05, 8: 1.1,
                 9: 1.05, 10: 0.95, 11: 0.9, 12: 1.0}  # fmt: skip
PAID_SHARE = 0.91  # of bills raised by phone; counter bills are paid as they are raised


@dataclass(frozen=True)
class HistorySummary:
    loaded: bool
    reason: str = ""
    bills: int = 0
    payments: int = 0
    cancelled_receipts: int = 0
    tills: int = 0
    applications: dict[str, int] = field(default_factory=dict)
    complaints: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def history_loaded() -> bool:
    """The history's cashiers are its first rows and exist only once it is loaded."""
    first, last = CASHIERS[0]
    return User.objects.filter(username=f"{first}.{last}".lower()).exists()


def why_not_load() -> str:
    """Why the history must not be loaded here, or "" when it may be.

    Its people have random phone numbers: their SMS must stay on this machine, so the
    history loads only where tasks run in the process (no broker) and SMS go to the
    console or a file; it sends them to a file of its own.
    """
    if getattr(settings, "CELERY_BROKER_URL", ""):
        return "a Celery broker is configured: the history's SMS would leave this process"
    if settings.SMS_BACKEND not in ("console", "file"):
        return f"SMS_BACKEND is {settings.SMS_BACKEND!r}: the history's SMS would be sent"
    if history_loaded():
        return "already loaded"
    return ""


def sms_file() -> Path:
    return Path(settings.VAR_DIR) / "demo-history-sms.jsonl"


def _bills_per_day(payments: int, start: date) -> list[tuple[date, int]]:
    days = [start + timedelta(days=n) for n in range(DAYS + 1)]  # up to today, so far
    weights = [WEEKDAY_WEIGHTS[d.weekday()] * MONTH_WEIGHTS[d.month] for d in days]
    scale = payments / PAID_SHARE / sum(weights)
    return [(d, round(w * scale)) for d, w in zip(days, weights, strict=True)]


def load_history(
    *, payments: int = DEFAULT_PAYMENTS, today: date | None = None, seed: int = SEED
) -> HistorySummary:
    """Load the history of the `DAYS` days before `today` (idempotent; see the module)."""
    if reason := why_not_load():
        return HistorySummary(loaded=False, reason=reason)
    started = time.monotonic()
    end = timezone.now()
    if today is not None:  # a history that ends on a given day (tests: the same every time)
        end = min(end, local(today, 18))
    today = today or timezone.localdate()
    start = today - timedelta(days=DAYS)
    rng = random.Random(seed)  # noqa: S311  # invented data, reproducible on purpose
    with (
        override_settings(SMS_BACKEND="file", SMS_FILE_PATH=str(sms_file())),
        _quiet("celery.app.trace"),
        travelling_clock(local(start, 7)) as clock,
        transaction.atomic(),
    ):
        timeline = Timeline(clock=clock, end=end)
        citizens = Citizens(rng)
        staff = Staff(rng)
        money = Money(
            rng=rng,
            timeline=timeline,
            citizens=citizens,
            staff=staff,
            remitters=max(2, round(len(MARKETS) * min(1.0, payments / DEFAULT_PAYMENTS))),
        )
        applications = Applications(
            rng=rng, timeline=timeline, citizens=citizens, staff=staff, money=money
        )
        complaints = Complaints(rng=rng, timeline=timeline, citizens=citizens, staff=staff)
        LandRates(rng=rng, timeline=timeline, staff=staff, money=money).plan(start)
        for day, bills in _bills_per_day(payments, start):
            timeline.at(
                local(day, 0, 1),
                partial(_plan_day, day, bills, money, applications, complaints),
            )
        timeline.run()
        clock.set(end)
        money.flush_mpesa()  # what came in since the worker's last batch
    return HistorySummary(
        loaded=True,
        bills=money.tally.bills,
        payments=money.tally.payments,
        cancelled_receipts=money.tally.cancelled_receipts,
        tills=money.tally.tills,
        applications=dict(Counter(applications.statuses())),
        complaints=dict(Counter(complaints.statuses())),
        seconds=time.monotonic() - started,
    )


@contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    """No line per task run: the sends queued for the commit would print hundreds."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _send_due_sms() -> None:
    """The outbox's sweep (as `send_pending_notifications` runs it), each evening: the
    day's SMS are sent inside the history's transaction, so that the sends queued for
    when it commits find nothing left to do (one commit per message would be most of the
    loading time on SQLite)."""
    while due := outbox.list_due_messages():
        for public_id in due:
            outbox.send_outbox_message(public_id=public_id)


def _plan_day(
    day: date, bills: int, money: Money, applications: Applications, complaints: Complaints
) -> None:
    money.plan_day(day, bills)
    money.timeline.at(local(day, 23, 50), _send_due_sms)
    applications.plan_day(day, bills)
    complaints.plan_day(day, bills)
