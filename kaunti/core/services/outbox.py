"""Sending what the outbox holds: one message at a time, retried with backoff; the
gateway's delivery reports; and the failed messages staff see and send again."""

import logging
from datetime import timedelta
from typing import Any
from uuid import UUID

from celery import current_app
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from kaunti.core.models import Channel, OutboxMessage, OutboxStatus
from kaunti.core.services.audit import record_event
from kaunti.core.sms import SmsError, get_sms_backend

# Africa's Talking delivery reports (shared/reference/kenya.md 2.4): Success is delivered,
# Rejected and Failed are final failures; Sent, Submitted and Buffered are on their way.
DELIVERED_REPORT = "Success"
FAILED_REPORTS = frozenset({"Rejected", "Failed"})
PENDING_REPORTS = frozenset({"Sent", "Submitted", "Buffered"})
DELIVERY_REPORTS = PENDING_REPORTS | FAILED_REPORTS | {DELIVERED_REPORT}
# The send task, named rather than imported: kaunti.core.tasks imports this module.
SEND_TASK = "kaunti.core.tasks.send_notification"

logger = logging.getLogger(__name__)


def retry_delay(attempts: int) -> timedelta:
    """Backoff after the n-th failed attempt: 30 s, 1 min, 2 min, 4 min... capped at one hour."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def send_outbox_message(*, public_id: UUID | str) -> OutboxMessage | None:
    """Try to send one message if it is still due; safe to call twice for the same message.

    Returns the message, or None when another worker holds it or it was already sent.
    """
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(public_id=public_id, status=OutboxStatus.PENDING)
            .first()
        )
        if message is None:
            return None
        message.attempts += 1
        try:
            if message.channel == Channel.SMS:
                sent = get_sms_backend().send(to=message.recipient, message=message.body)
                message.provider_message_id = sent.provider_message_id
            else:
                send_mail(message.subject, message.body, None, [message.recipient])
        except (SmsError, OSError) as exc:
            retryable = getattr(exc, "retryable", True)
            message.last_error = str(exc)[:1000]
            if not retryable or message.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
                message.status = OutboxStatus.FAILED
                logger.warning("notification %s failed for good: %s", message.public_id, exc)
            else:
                message.next_attempt_at = timezone.now() + retry_delay(message.attempts)
                logger.info("notification %s will be retried: %s", message.public_id, exc)
        else:
            message.status = OutboxStatus.SENT
            message.sent_at = timezone.now()
            message.last_error = ""
        message.save()
    return message


def list_due_messages(*, limit: int = 500) -> list[str]:
    """Public ids of messages waiting to send whose next attempt is due."""
    due = OutboxMessage.objects.filter(
        status=OutboxStatus.PENDING, next_attempt_at__lte=timezone.now()
    )
    return [str(public_id) for public_id in due.values_list("public_id", flat=True)[:limit]]


def record_delivery_report(
    *, provider_message_id: str, status: str, failure_reason: str = ""
) -> OutboxMessage | None:
    """Apply a gateway's delivery report to the message it names; None if none matches.

    Safe to receive twice and out of order: once a final report (delivered, or failed)
    is recorded, a later interim one ("Buffered") changes nothing.
    """
    if not provider_message_id or status not in DELIVERY_REPORTS:
        return None
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update()
            .filter(channel=Channel.SMS, provider_message_id=provider_message_id)
            .first()
        )
        if message is None:
            return None
        is_final = message.delivery_status == DELIVERED_REPORT or (
            message.delivery_status in FAILED_REPORTS
        )
        if is_final and status in PENDING_REPORTS:
            return message
        now = timezone.now()
        message.delivery_status = status
        message.status_reason = failure_reason[:100] if status in FAILED_REPORTS else ""
        message.status_updated_at = now
        if status == DELIVERED_REPORT:
            message.status = OutboxStatus.DELIVERED
            message.delivered_at = message.delivered_at or now
        elif status in FAILED_REPORTS:
            message.status = OutboxStatus.FAILED
            message.last_error = f"Not delivered: {status} ({failure_reason or 'no reason'})"
            logger.warning(
                "notification %s not delivered: %s %s", message.public_id, status, failure_reason
            )
        message.save(
            update_fields=[
                "delivery_status",
                "status_reason",
                "status_updated_at",
                "status",
                "delivered_at",
                "last_error",
            ]
        )
    return message


def list_undelivered_messages() -> QuerySet[OutboxMessage]:
    """SMS that failed to send or to arrive, and SMS still retrying after a failure."""
    return OutboxMessage.objects.filter(channel=Channel.SMS).filter(
        Q(status=OutboxStatus.FAILED) | Q(status=OutboxStatus.PENDING, attempts__gt=0)
    )


def requeue_failed_message(*, public_id: UUID | str, actor: Any) -> OutboxMessage | None:
    """Send a failed message again, from a fresh round of attempts (a staff decision).

    Returns None unless the message exists and has failed; the send runs after commit.
    """
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update()
            .filter(public_id=public_id, status=OutboxStatus.FAILED)
            .first()
        )
        if message is None:
            return None
        previous = {
            "attempts": message.attempts,
            "last_error": message.last_error[:200],
            "delivery_status": message.delivery_status,
        }
        message.status = OutboxStatus.PENDING
        message.attempts = 0
        message.next_attempt_at = timezone.now()
        message.provider_message_id = ""
        message.delivery_status = ""
        message.status_reason = ""
        message.status_updated_at = None
        message.save()
        record_event(
            actor=actor, action="core.outbox_message_requeued", target=message, data=previous
        )
        message_id = str(message.public_id)
        transaction.on_commit(lambda: current_app.signature(SEND_TASK, args=[message_id]).delay())
    return message
