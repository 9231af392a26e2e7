"""Celery tasks of the e-services app: thin wrappers around services.

Schedule `escalate_overdue_complaints_task` in CELERY_BEAT_SCHEDULE (every 15 minutes is
plenty: SLAs are in hours); running it twice escalates nothing twice.
"""

from celery import shared_task

from kaunti.eservices.services.complaints.escalation import escalate_overdue_complaints


@shared_task
def escalate_overdue_complaints_task() -> int:
    """The periodic escalation of complaints past their SLA; returns how many escalated."""
    return escalate_overdue_complaints()
