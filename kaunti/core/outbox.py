"""Sending what the outbox holds: one message at a time, retried with backoff."""

import logging
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from kaunti.core.models import Channel, OutboxMessage, OutboxStatus
from kaunti.core.sms import SmsError, get_sms_backend

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
