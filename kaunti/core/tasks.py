"""Celery tasks of the kernel: thin wrappers that call services."""

from celery import shared_task
from django.conf import settings

from kaunti.core.models import OutboxStatus
from kaunti.core.services import audit, outbox, scheduled


@shared_task(acks_late=True)
def send_notification(public_id: str) -> str:
    """Send one outbox message; on a retryable failure, schedule the next try with backoff."""
    message = outbox.send_outbox_message(public_id=public_id)
    if message is None:
        return "skipped"
    if message.status == OutboxStatus.PENDING and not settings.CELERY_TASK_ALWAYS_EAGER:
        send_notification.apply_async(args=[public_id], eta=message.next_attempt_at)
    return message.status


@shared_task(acks_late=True)
def send_notifications(public_ids: list[str]) -> int:
    """Send a batch of outbox messages queued together; each failure is retried on its own."""
    for public_id in public_ids:
        send_notification(public_id)
    return len(public_ids)


@shared_task
def send_pending_notifications() -> int:
    """The sweep: send whatever is due (messages whose enqueue was lost, or retries)."""
    due = outbox.list_due_messages()
    for public_id in due:
        outbox.send_outbox_message(public_id=public_id)
    return len(due)


@shared_task
def prune_scheduled_job_runs() -> int:
    """Delete the records of scheduled job runs older than SCHEDULED_JOB_RUNS_KEEP_DAYS."""
    return scheduled.prune_runs()


@shared_task
def seal_audit_events() -> int:
    """The periodic sequencer (ADR 19): seal events whose writers' own try found it busy."""
    return audit.seal_pending_events(wait=False)


@shared_task
def anchor_audit_chain() -> int | None:
    """Hourly: record the audit chain's head as an anchor (row and stored file, ADR 19)."""
    anchor = audit.record_anchor()
    return anchor.seq if anchor is not None else None
