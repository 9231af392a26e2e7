"""The beat schedule in words, for the staff page of scheduled jobs: each entry's name and
how often it runs, in English and Kiswahili. The schedule itself stays in settings
(`CELERY_BEAT_SCHEDULE`); an entry not named here shows its key."""

from typing import Any

from celery.schedules import crontab, schedule
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

ENTRY_LABELS: dict[str, Promise] = {
    "resend-stuck-notifications": gettext_lazy("Send SMS and email that are due or failed"),
    "record-stored-paybill-confirmations": gettext_lazy("Record stored paybill payments"),
    "apply-stored-stk-callbacks": gettext_lazy("Apply stored M-Pesa prompt answers"),
    "query-unanswered-stk-prompts": gettext_lazy("Ask M-Pesa about unanswered payment prompts"),
    "escalate-overdue-complaints": gettext_lazy("Escalate overdue complaints"),
    "charge-monthly-land-penalties": gettext_lazy("Charge the month's land rates penalties"),
    "prune-scheduled-job-runs": gettext_lazy("Delete old records of scheduled job runs"),
    "seal-audit-events": gettext_lazy("Seal new events into the audit chain"),
    "anchor-audit-chain": gettext_lazy("Record an anchor of the audit chain's head"),
}


def entry_label(name: str) -> str:
    label = ENTRY_LABELS.get(name)
    return str(label) if label is not None else name


def _every(seconds: float) -> str:
    whole = int(seconds)
    if whole % 3600 == 0 and whole >= 3600:
        hours = whole // 3600
        return ngettext("Every hour", "Every %(count)d hours", hours) % {"count": hours}
    if whole % 60 == 0 and whole >= 60:
        minutes = whole // 60
        return ngettext("Every minute", "Every %(count)d minutes", minutes) % {"count": minutes}
    return ngettext("Every second", "Every %(count)d seconds", whole) % {"count": whole}


def _single(field: set[int], full: int) -> int | None:
    """The one value a crontab field takes, or None when it takes several or all."""
    return next(iter(field)) if len(field) == 1 and full != 1 else None


def describe_schedule(value: Any) -> str:
    """ "Every 30 seconds", "Daily at 03:15", "Monthly on day 1 at 02:30", or Celery's own
    description for a schedule not written in these shapes."""
    if isinstance(value, int | float):
        return _every(float(value))
    if isinstance(value, schedule) and not isinstance(value, crontab):
        return _every(value.run_every.total_seconds())
    if isinstance(value, crontab):
        minute = _single(value.minute, 60)
        hour = _single(value.hour, 24)
        every_weekday = len(value.day_of_week) == 7
        every_month = len(value.month_of_year) == 12
        day = _single(value.day_of_month, 31)
        if minute is not None and hour is not None and every_weekday and every_month:
            at = f"{hour:02d}:{minute:02d}"
            if len(value.day_of_month) == 31:
                return _("Daily at %(time)s") % {"time": at}
            if day is not None:
                return _("Monthly on day %(day)d at %(time)s") % {"day": day, "time": at}
    return str(value)
