"""Celery tasks of the payments app: thin wrappers around services.

Every task is registered under an explicit name, the dotted path it has always had, so
that jobs queued before an upgrade (and the beat schedule in settings) still find it
whichever module holds it; services queue them by these names (`kaunti.core.services.jobs`).
"""

from celery import shared_task
from django.conf import settings

from kaunti.payments.models import CallbackStatus, InboundCallback
from kaunti.payments.mpesa import c2b, outbound, receive, stk, stk_callbacks


@shared_task(name=stk.SEND_STK_PUSH_TASK, acks_late=True)
def send_stk_push_task(public_id: str) -> str:
    return outbound.send_stk_push(public_id=public_id).status


@shared_task(name=receive.RETRY_WAITING_STK_CALLBACK_TASK, acks_late=True)
def retry_waiting_stk_callback(public_id: str) -> str:
    """Try a callback whose prompt was not visible yet; again later while it still waits."""
    status = stk_callbacks.process_stk_callback_or_note_failure(public_id=public_id)
    if status == CallbackStatus.WAITING and not settings.CELERY_TASK_ALWAYS_EAGER:
        attempts = (
            InboundCallback.objects.filter(public_id=public_id)
            .values_list("attempts", flat=True)
            .first()
            or 1
        )
        retry_waiting_stk_callback.apply_async(
            args=[public_id], countdown=stk_callbacks.retry_delay_seconds(attempts)
        )
    return status


@shared_task(name=receive.DRAIN_C2B_CONFIRMATIONS_TASK, acks_late=True)
def drain_c2b_confirmations_task() -> int:
    """Record the paybill confirmations stored since the last drain, in batches."""
    return receive.drain_c2b_confirmations()


@shared_task(name="kaunti.payments.tasks.retry_c2b_confirmations")
def retry_c2b_confirmations() -> int:
    """The sweep: confirmations never drained (a lost task) and those that failed before."""
    return c2b.drain_c2b_confirmations() + c2b.drain_c2b_confirmations(first_try=False)


@shared_task(name="kaunti.payments.tasks.retry_stored_stk_callbacks")
def retry_stored_stk_callbacks() -> int:
    """The sweep: STK callbacks left unapplied (a failure, a lost retry) are tried again."""
    return stk_callbacks.sweep_stk_callbacks()


@shared_task(name="kaunti.payments.tasks.resolve_pending_stk_requests")
def resolve_pending_stk_requests() -> int:
    """The periodic STK query for prompts whose callback never came."""
    return outbound.resolve_pending_stk_requests()
