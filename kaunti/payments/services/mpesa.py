"""Starting M-Pesa payments, and taking in Safaricom's callbacks: the entry points that
views, the API and other channels call. The work itself is in `mpesa_inbound` and
`mpesa_outbound`; this module only adds the scheduling of their background steps.
"""

from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kaunti.core.audit import record_event
from kaunti.core.identifiers import normalise_phone
from kaunti.core.money import whole_shillings_for_mpesa
from kaunti.payments.models import (
    Bill,
    BillStatus,
    CallbackStatus,
    InboundCallback,
    StkRequest,
)
from kaunti.payments.services import mpesa_inbound
from kaunti.payments.tasks import retry_waiting_stk_callback, send_stk_push_task


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
    wanted = amount if amount is not None else balance
    if wanted <= 0 or wanted > balance:
        raise ValidationError(
            _("Pay between KES 1 and the balance of KES %(balance)s.") % {"balance": balance}
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


def receive_stk_callback(*, body: bytes, remote_addr: str) -> InboundCallback:
    """Store an STK callback, apply it, and schedule a retry if its prompt is not visible yet."""
    callback = mpesa_inbound.store_callback(kind="mpesa_stk", body=body, remote_addr=remote_addr)
    schedule_if_waiting(public_id=callback.public_id)
    return callback


def schedule_if_waiting(*, public_id: UUID | str) -> str:
    status = mpesa_inbound.process_stk_callback(public_id=public_id)
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
