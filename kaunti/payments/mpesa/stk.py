"""Starting an M-Pesa payment: the STK prompt a citizen, a clerk or the USSD menu asks for.

The prompt is sent to Safaricom by a task after commit (`outbound.send_stk_push`), queued
by its registered name: `kaunti.payments.tasks` imports the M-Pesa modules, so none of
them imports the tasks (see `receive`).
"""

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kaunti.core.identifiers import normalise_phone
from kaunti.core.money import format_amount, whole_shillings_for_mpesa
from kaunti.core.services.audit import record_event
from kaunti.core.services.jobs import enqueue
from kaunti.payments.models import Bill, BillStatus, StkRequest

# The registered name of the task that sends a prompt (its name since it was written).
SEND_STK_PUSH_TASK = "kaunti.payments.tasks.send_stk_push_task"


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
    transaction.on_commit(lambda: enqueue(SEND_STK_PUSH_TASK, request_id))
    return request
