"""STK callbacks applied: each is matched to its prompt by CheckoutRequestID and records
the payment (or the prompt's failure); one that arrives before its prompt's row is
visible is left WAITING for a retry, and a periodic sweep takes what was left unapplied.
"""

import logging
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from kaunti.core.services.audit import record_event
from kaunti.payments.models import (
    CallbackStatus,
    Channel,
    InboundCallback,
    StkRequest,
    StkStatus,
)
from kaunti.payments.mpesa.callbacks import (
    MalformedCallback,
    NeedsReview,
    parse_stk_callback,
)
from kaunti.payments.mpesa.inbound import (
    STK_PROVIDER,
    check_amount,
    load_json,
    mark_malformed,
    note_failure,
)
from kaunti.payments.services.recording import (
    record_payment,
)

logger = logging.getLogger(__name__)

MAX_CALLBACK_WAITS = 10


def retry_delay_seconds(attempts: int) -> int:
    """How long a WAITING callback waits before its next try: 2, 4, 8... up to 60 s."""
    return min(60, 2**attempts)


STK_CALLBACK = "mpesa_stk"
# A stored STK callback still unapplied this long after it came is retried by the sweep.
STK_SWEEP_AFTER = timedelta(seconds=60)


def process_stk_callback_or_note_failure(*, public_id: UUID | str) -> str:
    """`process_stk_callback`, where a failure (the database, a value the payment refuses)
    is noted on the stored callback instead of raised: the sweep tries it again, and after
    `MAX_CONFIRMATION_ATTEMPTS` it waits for review. Returns the callback's status."""
    try:
        return process_stk_callback(public_id=public_id)
    except (DatabaseError, ValidationError, ValueError) as exc:
        logger.exception("could not apply STK callback %s", public_id)
        note_failure(public_id=public_id, error=exc)
    return str(InboundCallback.objects.values_list("status", flat=True).get(public_id=public_id))


def sweep_stk_callbacks(*, older_than: timedelta = STK_SWEEP_AFTER, limit: int = 200) -> int:
    """Try again every STK callback left unapplied (its recording failed, or the retry of a
    WAITING one was lost); each ends applied, or for review after its attempts run out.
    Returns how many it tried."""
    public_ids = list(
        InboundCallback.objects.filter(
            kind=STK_CALLBACK,
            status__in=(CallbackStatus.RECEIVED, CallbackStatus.WAITING),
            received_at__lte=timezone.now() - older_than,
        )
        .order_by("pk")
        .values_list("public_id", flat=True)[:limit]
    )
    for public_id in public_ids:
        process_stk_callback_or_note_failure(public_id=public_id)
    return len(public_ids)


def _stk_checkout_request_id(payload: dict[str, Any]) -> str:
    """The CheckoutRequestID of a payload that did not parse as a whole, if it has one."""
    body = payload.get("Body")
    callback = body.get("stkCallback") if isinstance(body, dict) else None
    value = callback.get("CheckoutRequestID") if isinstance(callback, dict) else None
    return value[:64] if isinstance(value, str) else ""


def _hold_prompt_for_review(*, checkout_request_id: str, reason: str) -> None:
    """A callback set aside for review answers this prompt: the periodic query must not
    settle it by itself (it would record the prompt's amount, not what was paid)."""
    request = (
        StkRequest.objects.select_for_update()
        .select_related("bill")
        .filter(
            checkout_request_id=checkout_request_id,
            status__in=(StkStatus.REQUESTED, StkStatus.PENDING),
        )
        .first()
        if checkout_request_id
        else None
    )
    if request is not None:
        _set_prompt_aside(request=request, result_code="", reason=reason)


def _set_prompt_aside(*, request: StkRequest, result_code: str, reason: str) -> None:
    request.status, request.result_desc = StkStatus.REVIEW, reason[:255]
    request.result_code, request.resolved_at = result_code, timezone.now()
    request.save(update_fields=["status", "result_code", "result_desc", "resolved_at"])
    record_event(
        actor=None,
        action="payments.stk_held_for_review",
        target=request,
        data={"bill": request.bill.number, "amount": request.amount, "reason": reason},
    )


def process_stk_callback(*, public_id: UUID | str) -> str:
    """Apply a stored STK callback once; returns its status (WAITING: try again later)."""
    with transaction.atomic():
        callback = InboundCallback.objects.select_for_update().get(public_id=public_id)
        if callback.status not in (CallbackStatus.RECEIVED, CallbackStatus.WAITING):
            return callback.status
        payload: dict[str, Any] = {}
        try:
            payload = load_json(callback)
            parsed = parse_stk_callback(payload)
            if parsed.amount is not None:
                check_amount(parsed.amount, "Amount")
        except MalformedCallback as exc:
            mark_malformed(callback, exc)
            if callback.status == CallbackStatus.REVIEW:
                callback.reference = _stk_checkout_request_id(payload)
                callback.save(update_fields=["reference"])
                _hold_prompt_for_review(checkout_request_id=callback.reference, reason=str(exc))
            return callback.status
        callback.reference = parsed.checkout_request_id
        callback.attempts += 1
        request = (
            StkRequest.objects.select_for_update()
            .select_related("bill")
            .filter(checkout_request_id=parsed.checkout_request_id)
            .first()
        )
        if request is None:
            if callback.attempts >= MAX_CALLBACK_WAITS:
                callback.status = CallbackStatus.REVIEW
                callback.error = "no STK request with this CheckoutRequestID"
            else:
                callback.status = CallbackStatus.WAITING
            callback.save(update_fields=["reference", "attempts", "status", "error"])
            return callback.status
        try:
            callback.status = _apply_stk_result(request=request, parsed=parsed, payload=payload)
        except NeedsReview as exc:
            callback.status, callback.error = CallbackStatus.REVIEW, str(exc)[:2000]
            logger.warning("STK callback %s held for review: %s", callback.pk, exc)
        callback.processed_at = timezone.now()
        callback.save(update_fields=["reference", "attempts", "status", "error", "processed_at"])
        return callback.status


def _apply_stk_result(*, request: StkRequest, parsed: Any, payload: dict[str, Any]) -> str:
    if request.status in (StkStatus.PAID, StkStatus.REVIEW):
        return CallbackStatus.DUPLICATE
    if parsed.result_code == 0:
        if parsed.amount is None:
            raise MalformedCallback("a successful callback without an Amount")
        if parsed.amount != Decimal(request.amount):
            # Not what was asked for: recording it would settle the bill with other money
            # than the payer agreed to; the prompt waits for an officer instead.
            reason = f"Amount {parsed.amount} does not match the prompt's KES {request.amount}"
            _set_prompt_aside(request=request, result_code=str(parsed.result_code), reason=reason)
            raise NeedsReview(reason)
        recorded = record_payment(
            provider=STK_PROVIDER,
            external_ref=request.checkout_request_id or "",
            channel=Channel.MPESA_STK,
            amount=parsed.amount,
            paid_at=parsed.transaction_date or timezone.now(),
            bill_number=request.bill.number,
            payer_phone=parsed.phone or request.phone,
            mpesa_receipt=parsed.receipt_number or "",
            raw=payload,
        )
        request.status, request.payment = StkStatus.PAID, recorded.payment
    elif request.status in (StkStatus.PENDING, StkStatus.REQUESTED):
        request.status = StkStatus.FAILED
    else:
        return CallbackStatus.DUPLICATE
    request.result_code = str(parsed.result_code)
    request.result_desc = parsed.result_desc[:255]
    request.resolved_at = timezone.now()
    request.save(update_fields=["status", "payment", "result_code", "result_desc", "resolved_at"])
    return CallbackStatus.PROCESSED
