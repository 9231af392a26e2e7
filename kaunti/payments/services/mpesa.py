"""Starting M-Pesa payments, and taking in Safaricom's callbacks: the entry points that
views, the API and other channels call. The work itself is in `mpesa_inbound` and
`mpesa_outbound`; this module only adds the scheduling of their background steps.
"""

import hmac
import logging
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import KombuError

from kaunti.core.audit import record_event
from kaunti.core.identifiers import normalise_phone
from kaunti.core.money import format_amount, whole_shillings_for_mpesa
from kaunti.payments.models import (
    Bill,
    BillStatus,
    CallbackDrain,
    CallbackStatus,
    InboundCallback,
    StkRequest,
)
from kaunti.payments.services import callback_store, mpesa_inbound
from kaunti.payments.tasks import (
    drain_c2b_confirmations_task,
    retry_waiting_stk_callback,
    send_stk_push_task,
)

logger = logging.getLogger(__name__)


class IdempotencyConflict(Exception):
    """An Idempotency-Key was reused for a different request."""


@transaction.atomic
def request_stk_push(
    *,
    bill: Bill,
    phone: str,
    actor: Any | None,
    amount: Decimal | None = None,
    idempotency_key: str | None = None,
    channel: str = "web",
) -> StkRequest:
    """Ask M-Pesa to prompt `phone` to pay `bill` (its balance unless `amount` is given).

    The prompt itself is sent by a task after commit, so no request waits on Safaricom.
    The same `idempotency_key` returns the same request instead of prompting twice.
    """
    if idempotency_key:
        existing = StkRequest.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            if existing.bill_id != bill.pk:
                raise IdempotencyConflict(idempotency_key)
            return existing
    locked = Bill.objects.select_for_update().get(pk=bill.pk)
    if locked.status in (BillStatus.PAID, BillStatus.CANCELLED):
        raise ValidationError(_("This bill has nothing left to pay."))
    balance = locked.total - locked.paid
    most = Decimal(settings.MPESA_MAX_AMOUNT)
    # A balance over M-Pesa's limit for one payment is prompted up to the limit: a part
    # payment, the rest paid the same way again.
    wanted = amount if amount is not None else min(balance, most)
    if wanted <= 0 or wanted > balance:
        raise ValidationError(
            _("Pay between KES 1 and the balance of KES %(balance)s.")
            % {"balance": format_amount(balance)}
        )
    if wanted > most:
        raise ValidationError(
            _("M-Pesa takes at most KES %(most)s in one payment: pay in parts.")
            % {"most": f"{most:,.0f}"}
        )
    try:
        with transaction.atomic():
            request = StkRequest.objects.create(
                bill=locked,
                phone=normalise_phone(phone),
                amount=whole_shillings_for_mpesa(wanted),
                idempotency_key=idempotency_key or None,
                initiated_by=actor if getattr(actor, "is_authenticated", False) else None,
                channel=channel,
            )
    except IntegrityError:
        # A concurrent call with the same key won the race: answer as if it came first.
        existing = StkRequest.objects.filter(idempotency_key=idempotency_key).first()
        if not idempotency_key or existing is None:
            raise
        if existing.bill_id != bill.pk:
            raise IdempotencyConflict(idempotency_key) from None
        return existing
    record_event(
        actor=actor,
        action="payments.stk_requested",
        target=request,
        data={"bill": locked.number, "amount": request.amount, "channel": channel},
    )
    request_id = str(request.public_id)
    transaction.on_commit(lambda: send_stk_push_task.delay(request_id))
    return request


# What may go wrong after a callback is stored, and must not change its answer: the
# database (locked, gone), the broker (a drain or retry not queued). The payload is kept
# either way, and the periodic sweeps apply it.
AFTER_STORING_ERRORS = (DatabaseError, OSError, KombuError)


def receive_stk_callback(*, body: bytes, remote_addr: str) -> InboundCallback:
    """Store an STK callback, apply it, and schedule a retry if its prompt is not visible yet.

    Raises only when it could not be stored (then Safaricom must be told to send it again).
    """
    callback = callback_store.store_callback(
        kind=mpesa_inbound.STK_CALLBACK, body=body, remote_addr=remote_addr
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
    worker records the confirmations in batches (`drain_c2b_confirmations_task`): at most
    one drain is queued at a time, however many confirmations arrive. Without a broker
    (the embedded demo, the tests) it is recorded now, before the answer.
    """
    callback = callback_store.store_callback(
        kind=mpesa_inbound.C2B_CONFIRMATION, body=body, remote_addr=remote_addr
    )
    if callback.status != CallbackStatus.RECEIVED:  # stored as unreadable: nothing to record
        return callback
    try:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            mpesa_inbound.process_c2b_confirmation(public_id=callback.public_id)
        elif _raise_drain_flag(C2B_DRAIN):
            drain_c2b_confirmations_task.apply_async(countdown=DRAIN_GATHER_SECONDS)
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
    taken = mpesa_inbound.drain_c2b_confirmations(gather_seconds=DRAIN_GATHER_SECONDS)
    CallbackDrain.objects.filter(name=C2B_DRAIN).update(scheduled_at=None)
    return taken + mpesa_inbound.drain_c2b_confirmations()


def schedule_if_waiting(*, public_id: UUID | str) -> str:
    status = mpesa_inbound.process_stk_callback_or_note_failure(public_id=public_id)
    if status == CallbackStatus.WAITING:
        attempts = (
            InboundCallback.objects.filter(public_id=public_id)
            .values_list("attempts", flat=True)
            .first()
            or 1
        )
        retry_waiting_stk_callback.apply_async(
            args=[str(public_id)], countdown=mpesa_inbound.retry_delay_seconds(attempts)
        )
    return status
