"""What Safaricom sends us: STK callbacks and paybill (C2B) validation and confirmation.

Every payload is stored raw first, in its own committed transaction, so nothing is lost
whatever happens next; it is then applied in one transaction, so a failure part-way
leaves nothing half done. STK callbacks are matched to their prompts by
CheckoutRequestID; one that arrives before its prompt's row is visible is left WAITING
for a retry. Paybill payments are matched by the bill number the payer typed.
"""

import json
import logging
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone

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
    parse_c2b,
    parse_stk_callback,
)
from kaunti.payments.mpesa.protocol import C2BValidationResult
from kaunti.payments.numbers import normalise_bill_number
from kaunti.payments.services.collections import record_payment

logger = logging.getLogger(__name__)

MAX_CALLBACK_WAITS = 10
STK_PROVIDER = "mpesa-stk"
C2B_PROVIDER = "mpesa-c2b"


def store_callback(
    *,
    kind: str,
    body: bytes,
    remote_addr: str,
    status: str = CallbackStatus.RECEIVED,
    error: str = "",
) -> InboundCallback:
    """Keep a provider's payload exactly as it came, committed before anything else."""
    with transaction.atomic():
        return InboundCallback.objects.create(
            kind=kind,
            body=body.decode("utf-8", errors="replace"),
            remote_addr=remote_addr[:64],
            status=status,
            error=error,
        )


def _mark_malformed(callback: InboundCallback, reason: str) -> None:
    callback.status = CallbackStatus.MALFORMED
    callback.error = reason[:2000]
    callback.processed_at = timezone.now()
    callback.save(update_fields=["status", "error", "processed_at"])
    logger.warning("malformed %s callback %s: %s", callback.kind, callback.public_id, reason)


def _load_json(callback: InboundCallback) -> dict[str, Any]:
    try:
        payload = json.loads(callback.body)
    except ValueError as exc:
        raise MalformedCallback(f"not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise MalformedCallback("not a JSON object")
    return payload


def retry_delay_seconds(attempts: int) -> int:
    """How long a WAITING callback waits before its next try: 2, 4, 8... up to 60 s."""
    return min(60, 2**attempts)


def process_stk_callback(*, public_id: UUID | str) -> str:
    """Apply a stored STK callback once; returns its status (WAITING: try again later)."""
    with transaction.atomic():
        callback = InboundCallback.objects.select_for_update().get(public_id=public_id)
        if callback.status not in (CallbackStatus.RECEIVED, CallbackStatus.WAITING):
            return callback.status
        try:
            payload = _load_json(callback)
            parsed = parse_stk_callback(payload)
        except MalformedCallback as exc:
            _mark_malformed(callback, str(exc))
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
        callback.status = _apply_stk_result(request=request, parsed=parsed, payload=payload)
        callback.processed_at = timezone.now()
        callback.save(update_fields=["reference", "attempts", "status", "processed_at"])
        return callback.status


def _apply_stk_result(*, request: StkRequest, parsed: Any, payload: dict[str, Any]) -> str:
    if request.status == StkStatus.PAID:
        return CallbackStatus.DUPLICATE
    if parsed.result_code == 0:
        if parsed.amount is None:
            raise MalformedCallback("a successful callback without an Amount")
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
    try:
        parsed = parse_c2b(_load_json(callback))
    except MalformedCallback as exc:
        _mark_malformed(callback, str(exc))
        # The parser refuses a zero or unreadable amount; Safaricom's code for it is C2B00013.
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


def process_c2b_confirmation(*, public_id: UUID | str) -> str:
    """Record a paybill payment once; an unknown bill number goes to suspense."""
    with transaction.atomic():
        callback = InboundCallback.objects.select_for_update().get(public_id=public_id)
        if callback.status != CallbackStatus.RECEIVED:
            return callback.status
        try:
            payload = _load_json(callback)
            parsed = parse_c2b(payload)
        except MalformedCallback as exc:
            _mark_malformed(callback, str(exc))
            return callback.status
        names = " ".join(
            part for part in (parsed.first_name, parsed.middle_name, parsed.last_name) if part
        )
        recorded = record_payment(
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
        callback.reference = parsed.trans_id[:64]
        callback.status = CallbackStatus.PROCESSED if recorded.created else CallbackStatus.DUPLICATE
        callback.processed_at = timezone.now()
        callback.save(update_fields=["reference", "status", "processed_at"])
        return callback.status
