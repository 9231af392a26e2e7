"""Celery tasks of the payments app: thin wrappers around services."""

from celery import shared_task
from django.conf import settings

from kaunti.payments.models import CallbackStatus, InboundCallback
from kaunti.payments.services import mpesa_inbound, mpesa_outbound


@shared_task(acks_late=True)
def send_stk_push_task(public_id: str) -> str:
    return mpesa_outbound.send_stk_push(public_id=public_id).status


@shared_task(acks_late=True)
def retry_waiting_stk_callback(public_id: str) -> str:
    """Try a callback whose prompt was not visible yet; again later while it still waits."""
    status = mpesa_inbound.process_stk_callback_or_note_failure(public_id=public_id)
    if status == CallbackStatus.WAITING and not settings.CELERY_TASK_ALWAYS_EAGER:
        attempts = (
            InboundCallback.objects.filter(public_id=public_id)
            .values_list("attempts", flat=True)
            .first()
            or 1
        )
        retry_waiting_stk_callback.apply_async(
            args=[public_id], countdown=mpesa_inbound.retry_delay_seconds(attempts)
        )
    return status


@shared_task(acks_late=True)
def drain_c2b_confirmations_task() -> int:
    """Record the paybill confirmations stored since the last drain, in batches."""
    from kaunti.payments.services.mpesa import drain_c2b_confirmations

    return drain_c2b_confirmations()


@shared_task
def retry_c2b_confirmations() -> int:
    """The sweep: confirmations never drained (a lost task) and those that failed before."""
    return mpesa_inbound.drain_c2b_confirmations() + mpesa_inbound.drain_c2b_confirmations(
        first_try=False
    )


@shared_task
def retry_stored_stk_callbacks() -> int:
    """The sweep: STK callbacks left unapplied (a failure, a lost retry) are tried again."""
    return mpesa_inbound.sweep_stk_callbacks()


@shared_task
def resolve_pending_stk_requests() -> int:
    """The periodic STK query for prompts whose callback never came."""
    return mpesa_outbound.resolve_pending_stk_requests()
