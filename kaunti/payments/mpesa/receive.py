"""Taking in Safaricom's callbacks: the entry points that the callback views and the
paybill lane call. Each payload is stored first (`callback_store`); applying it is the
work of `stk_callbacks` and `c2b`, and this module only decides when that runs: now, or
in a task.

The tasks are queued by their registered names (`kaunti.core.services.jobs.enqueue`), never
imported: `kaunti.payments.tasks` imports this module to run the work, so a service that
imported the tasks would close an import circle. The names below are the ones the tasks
are registered under (`tasks.py` reads them from here), so they cannot drift apart.
"""

import hmac
import logging
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone
from kombu.exceptions import KombuError

from kaunti.core.services.jobs import enqueue
from kaunti.payments.models import CallbackDrain, CallbackStatus, InboundCallback
from kaunti.payments.mpesa import c2b, stk_callbacks
from kaunti.payments.services import callback_store

# The registered names of the tasks queued from here (the names they always had, so that
# jobs queued before an upgrade still find their task).
DRAIN_C2B_CONFIRMATIONS_TASK = "kaunti.payments.tasks.drain_c2b_confirmations_task"
RETRY_WAITING_STK_CALLBACK_TASK = "kaunti.payments.tasks.retry_waiting_stk_callback"

logger = logging.getLogger(__name__)


# What may go wrong after a callback is stored, and must not change its answer: the
# database (locked, gone), the broker (a drain or retry not queued). The payload is kept
# either way, and the periodic sweeps apply it.
AFTER_STORING_ERRORS = (DatabaseError, OSError, KombuError)


def receive_stk_callback(*, body: bytes, remote_addr: str) -> InboundCallback:
    """Store an STK callback, apply it, and schedule a retry if its prompt is not visible yet.

    Raises only when it could not be stored (then Safaricom must be told to send it again).
    """
    callback = callback_store.store_callback(
        kind=stk_callbacks.STK_CALLBACK, body=body, remote_addr=remote_addr
    )
    try:
        schedule_if_waiting(public_id=callback.public_id)
    except AFTER_STORING_ERRORS:
        logger.exception("STK callback %s stored; the sweep will apply it", callback.public_id)
    return callback


C2B_DRAIN = "c2b"
# A drain flag older than this is taken as lost (its task died): the next callback sets it.
DRAIN_FLAG_LIFETIME = timedelta(seconds=60)
# A drain starts this long after the callback that queues it, so that it finds a batch.
DRAIN_GATHER_SECONDS = 0.2


def is_callback_token(token: str) -> bool:
    """Whether a callback path's token is ours (`MPESA_CALLBACK_TOKEN`), in constant time."""
    return hmac.compare_digest(token.encode(), settings.MPESA_CALLBACK_TOKEN.encode())


def is_allowed_sender(address: str) -> bool:
    """Whether a callback may come from `address` (any, unless `MPESA_ALLOWED_IPS` is set)."""
    return not settings.MPESA_ALLOWED_IPS or address in settings.MPESA_ALLOWED_IPS


def receive_c2b_confirmation(*, body: bytes, remote_addr: str) -> InboundCallback:
    """Store a paybill confirmation and see that it is recorded.

    With a Celery broker, Safaricom is answered as soon as the payload is stored, and a
    worker records the confirmations in batches (`DRAIN_C2B_CONFIRMATIONS_TASK`): at most
    one drain is queued at a time, however many confirmations arrive. Without a broker
    (the embedded demo, the tests) it is recorded now, before the answer.
    """
    callback = callback_store.store_callback(
        kind=c2b.C2B_CONFIRMATION, body=body, remote_addr=remote_addr
    )
    if callback.status != CallbackStatus.RECEIVED:  # stored as unreadable: nothing to record
        return callback
    try:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            c2b.process_c2b_confirmation(public_id=callback.public_id)
        elif _raise_drain_flag(C2B_DRAIN):
            enqueue(DRAIN_C2B_CONFIRMATIONS_TASK, countdown=DRAIN_GATHER_SECONDS)
    except AFTER_STORING_ERRORS:
        logger.exception("confirmation %s stored; the sweep will record it", callback.public_id)
    return callback


def _raise_drain_flag(name: str) -> bool:
    """Set the flag unless it is already set (and fresh); true when this call set it.

    Read first: while a drain is queued, which is nearly always under load, a callback
    only reads the flag (no write, no lock, no commit to wait for). The flag lives in the
    database, next to the callbacks, so every app node sees the same one. A callback that
    finds it set was stored (committed) before it looked, so the drain, which clears the
    flag before its last pass, will see that callback on that pass.
    """
    now = timezone.now()
    table = CallbackDrain._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {table} WHERE name = %s AND scheduled_at >= %s",  # noqa: S608
            [name, now - DRAIN_FLAG_LIFETIME],
        )
        if cursor.fetchone() is not None:
            return False
        cursor.execute(
            f"INSERT INTO {table} (name, scheduled_at) VALUES (%s, %s)"  # noqa: S608
            " ON CONFLICT (name) DO UPDATE SET scheduled_at = excluded.scheduled_at"
            f" WHERE {table}.scheduled_at IS NULL OR {table}.scheduled_at < %s",
            [name, now, now - DRAIN_FLAG_LIFETIME],
        )
        return cursor.rowcount == 1


def drain_c2b_confirmations() -> int:
    """Record every stored confirmation; the drain task's body.

    The flag is cleared after a first pass, then a second pass takes what arrived while it
    was set: a confirmation stored while the flag was set (and so not scheduling a drain
    of its own) was committed before the flag was cleared, so the second pass sees it.
    """
    taken = c2b.drain_c2b_confirmations(gather_seconds=DRAIN_GATHER_SECONDS)
    CallbackDrain.objects.filter(name=C2B_DRAIN).update(scheduled_at=None)
    return taken + c2b.drain_c2b_confirmations()


def schedule_if_waiting(*, public_id: UUID | str) -> str:
    status = stk_callbacks.process_stk_callback_or_note_failure(public_id=public_id)
    if status == CallbackStatus.WAITING:
        attempts = (
            InboundCallback.objects.filter(public_id=public_id)
            .values_list("attempts", flat=True)
            .first()
            or 1
        )
        enqueue(
            RETRY_WAITING_STK_CALLBACK_TASK,
            str(public_id),
            countdown=stk_callbacks.retry_delay_seconds(attempts),
        )
    return status
