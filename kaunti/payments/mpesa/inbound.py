"""What Safaricom sends us: STK callbacks and paybill (C2B) validation and confirmation.

Every payload is stored raw first, in its own committed transaction, so nothing is lost
whatever happens next; it is then applied in one transaction, so a failure part-way
leaves nothing half done. STK callbacks are matched to their prompts by
CheckoutRequestID; one that arrives before its prompt's row is visible is left WAITING
for a retry. Paybill payments are matched by the bill number the payer typed.
"""

import json
import logging
import time
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from kaunti.core.audit import record_event
from kaunti.core.bulk import update_objects
from kaunti.payments.models import (
    Bill,
    BillStatus,
    CallbackStatus,
    Channel,
    InboundCallback,
    StkRequest,
    StkStatus,
)
from kaunti.payments.mpesa.callbacks import (
    InvalidAmount,
    MalformedCallback,
    NeedsReview,
    check_mpesa_amount,
    parse_c2b,
    parse_stk_callback,
)
from kaunti.payments.mpesa.protocol import MPESA_MIN_AMOUNT, C2BValidationResult
from kaunti.payments.numbering import normalise_bill_number
from kaunti.payments.services.callback_store import has_unstorable_text
from kaunti.payments.services.recording import (
    IncomingPayment,
    record_payment,
    record_payments,
)

logger = logging.getLogger(__name__)

MAX_CALLBACK_WAITS = 10
STK_PROVIDER = "mpesa-stk"
C2B_PROVIDER = "mpesa-c2b"


def _status_for(exc: MalformedCallback) -> str:
    """MALFORMED for a payload that cannot be read; REVIEW for one that reads but carries
    what M-Pesa never sends (it may be money: an officer looks)."""
    return CallbackStatus.REVIEW if isinstance(exc, NeedsReview) else CallbackStatus.MALFORMED


def _mark_malformed(callback: InboundCallback, exc: MalformedCallback) -> None:
    callback.status = _status_for(exc)
    callback.error = str(exc)[:2000]
    callback.processed_at = timezone.now()
    callback.save(update_fields=["status", "error", "processed_at"])
    logger.warning("%s %s callback %s: %s", callback.status, callback.kind, callback.pk, exc)


def _load_json(callback: InboundCallback) -> dict[str, Any]:
    try:
        payload = json.loads(callback.body)
    except (ValueError, RecursionError) as exc:
        raise MalformedCallback(f"not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise MalformedCallback("not a JSON object")
    # Only an escape (\u0000, \udXXX) can put such a character in: look closer then.
    lowered = callback.body.lower()
    if ("\\u0000" in lowered or "\\ud" in lowered) and has_unstorable_text(payload):
        raise MalformedCallback("a value holds a NUL character or a lone surrogate")
    return payload


def _check_amount(amount: Decimal, name: str) -> None:
    """M-Pesa's own limits for one payment: KES 1 to MPESA_MAX_AMOUNT."""
    check_mpesa_amount(
        amount,
        least=Decimal(MPESA_MIN_AMOUNT),
        most=Decimal(settings.MPESA_MAX_AMOUNT),
        name=name,
    )


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
        _note_failure(public_id=public_id, error=exc)
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
            payload = _load_json(callback)
            parsed = parse_stk_callback(payload)
            if parsed.amount is not None:
                _check_amount(parsed.amount, "Amount")
        except MalformedCallback as exc:
            _mark_malformed(callback, exc)
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


# --- Paybill (C2B) ------------------------------------------------------------------------


def validate_c2b(*, public_id: UUID | str) -> C2BValidationResult:
    """Accept a paybill payment only for an open bill number and a positive amount."""
    callback = InboundCallback.objects.get(public_id=public_id)
    if callback.status != CallbackStatus.RECEIVED:  # stored as unreadable
        return C2BValidationResult.OTHER_ERROR
    try:
        parsed = parse_c2b(_load_json(callback))
        _check_amount(parsed.amount, "TransAmount")
    except MalformedCallback as exc:
        _mark_malformed(callback, exc)
        # A zero, unreadable or out-of-range amount; Safaricom's code for it is C2B00013.
        if isinstance(exc, InvalidAmount):
            return C2BValidationResult.INVALID_AMOUNT
        return C2BValidationResult.OTHER_ERROR
    bill = Bill.objects.filter(number=normalise_bill_number(parsed.bill_ref_number)).first()
    if bill is None or bill.status in (BillStatus.CANCELLED, BillStatus.PAID):
        result = C2BValidationResult.INVALID_ACCOUNT_NUMBER
    else:
        result = C2BValidationResult.ACCEPTED
    InboundCallback.objects.filter(pk=callback.pk).update(
        reference=parsed.trans_id[:64],
        status=CallbackStatus.PROCESSED,
        error="" if result == C2BValidationResult.ACCEPTED else f"rejected {result.value}",
        processed_at=timezone.now(),
    )
    return result


C2B_CONFIRMATION = "mpesa_c2b_confirmation"
# A confirmation whose recording failed this many times waits for an officer's review.
MAX_CONFIRMATION_ATTEMPTS = 5


def _c2b_payment(parsed: Any, payload: dict[str, Any]) -> IncomingPayment:
    names = " ".join(
        part for part in (parsed.first_name, parsed.middle_name, parsed.last_name) if part
    )
    return IncomingPayment(
        provider=C2B_PROVIDER,
        external_ref=parsed.trans_id,
        channel=Channel.MPESA_PAYBILL,
        amount=parsed.amount,
        paid_at=parsed.trans_time,
        bill_number=parsed.bill_ref_number,
        payer_phone=parsed.msisdn,
        payer_name=names,
        mpesa_receipt=parsed.trans_id,
        raw=payload,
    )


def process_c2b_confirmations(
    *, public_ids: Sequence[UUID | str] | None = None, limit: int = 200, first_try: bool = True
) -> int:
    """Record stored paybill confirmations, in one transaction: those named, or the oldest
    that have not been tried yet (or, with `first_try` false, that failed before).

    Each payment is recorded once (a repeated TransID is marked duplicate); an unknown bill
    number goes to suspense; a malformed payload is marked for review and records nothing.
    Rows another worker is applying are skipped, not waited for. Returns how many it took.
    """
    with transaction.atomic():
        waiting = InboundCallback.objects.select_for_update(skip_locked=True).filter(
            kind=C2B_CONFIRMATION, status=CallbackStatus.RECEIVED
        )
        if public_ids is not None:
            waiting = waiting.filter(public_id__in=public_ids)
        elif first_try:
            waiting = waiting.filter(attempts=0)
        else:
            waiting = waiting.filter(attempts__gt=0)
        callbacks = list(waiting.order_by("pk")[:limit])
        if not callbacks:
            return 0
        now = timezone.now()
        readable: list[tuple[InboundCallback, IncomingPayment]] = []
        for callback in callbacks:
            callback.attempts += 1
            callback.processed_at = now
            try:
                payload = _load_json(callback)
                parsed = parse_c2b(payload)
                # Validation refuses these, but a confirmation may come without it (or
                # forged): out of M-Pesa's limits, it is kept for review, never money.
                _check_amount(parsed.amount, "TransAmount")
                readable.append((callback, _c2b_payment(parsed, payload)))
            except MalformedCallback as exc:
                callback.status, callback.error = _status_for(exc), str(exc)[:2000]
                logger.warning(
                    "%s %s callback %s: %s", callback.status, callback.kind, callback.pk, exc
                )
        recorded = record_payments([payment for _, payment in readable])
        for (callback, payment), result in zip(readable, recorded, strict=True):
            callback.reference = payment.external_ref[:64]
            callback.status = (
                CallbackStatus.PROCESSED if result.created else CallbackStatus.DUPLICATE
            )
        update_objects(callbacks, ["reference", "status", "error", "attempts", "processed_at"])
        return len(callbacks)


def process_c2b_confirmation(*, public_id: UUID | str) -> str:
    """Record one stored paybill confirmation now; if that fails, note why and leave it
    for the retry sweep (after `MAX_CONFIRMATION_ATTEMPTS`, for review). Returns its status.
    """
    try:
        process_c2b_confirmations(public_ids=[public_id])
    except Exception as exc:
        logger.exception("could not record paybill confirmation %s", public_id)
        _note_failure(public_id=public_id, error=exc)
    return str(InboundCallback.objects.values_list("status", flat=True).get(public_id=public_id))


def _note_failure(*, public_id: UUID | str, error: Exception) -> None:
    with transaction.atomic():
        callback = InboundCallback.objects.select_for_update().get(public_id=public_id)
        callback.attempts += 1
        callback.error = f"{type(error).__name__}: {error}"[:2000]
        if callback.attempts >= MAX_CONFIRMATION_ATTEMPTS:
            callback.status = CallbackStatus.REVIEW
        callback.save(update_fields=["attempts", "error", "status"])


def drain_c2b_confirmations(
    *, batch_size: int = 200, first_try: bool = True, gather_seconds: float = 0.0
) -> int:
    """Record stored paybill confirmations in batches until none is left to try.

    After a batch smaller than `batch_size`, wait `gather_seconds` for more to arrive (a
    batch costs little more than a single payment). When a batch fails as a whole, its
    callbacks are tried one by one, so one bad payment holds up only itself. Returns how
    many callbacks were taken.
    """
    done = 0
    taken = batch_size
    while True:
        if taken < batch_size and gather_seconds:
            time.sleep(gather_seconds)
        try:
            taken = process_c2b_confirmations(limit=batch_size, first_try=first_try)
        except Exception:
            logger.exception("a batch of paybill confirmations failed; trying them one by one")
            waiting = InboundCallback.objects.filter(
                kind=C2B_CONFIRMATION, status=CallbackStatus.RECEIVED
            )
            waiting = waiting.filter(attempts=0) if first_try else waiting.filter(attempts__gt=0)
            public_ids = list(
                waiting.order_by("pk").values_list("public_id", flat=True)[:batch_size]
            )
            for public_id in public_ids:
                process_c2b_confirmation(public_id=public_id)
            taken = len(public_ids)
        if taken == 0:
            return done
        done += taken
        if not first_try:
            return done  # retries: one pass, the next sweep tries again
