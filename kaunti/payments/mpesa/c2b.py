"""Paybill (C2B) payments: validation (accepted only for an open bill number and a
positive amount) and confirmations, matched by the bill number the payer typed and
recorded in batches by the drain (`receive`) or one by one.
"""

import logging
import time
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from kaunti.core.bulk import update_objects
from kaunti.payments.models import (
    Bill,
    BillStatus,
    CallbackStatus,
    Channel,
    InboundCallback,
)
from kaunti.payments.mpesa.callbacks import (
    InvalidAmount,
    MalformedCallback,
    parse_c2b,
)
from kaunti.payments.mpesa.inbound import (
    C2B_PROVIDER,
    check_amount,
    load_json,
    mark_malformed,
    note_failure,
    status_for,
)
from kaunti.payments.mpesa.protocol import C2BValidationResult
from kaunti.payments.numbering import normalise_bill_number
from kaunti.payments.services.recording import (
    IncomingPayment,
    record_payments,
)

logger = logging.getLogger(__name__)


def validate_c2b(*, public_id: UUID | str) -> C2BValidationResult:
    """Accept a paybill payment only for an open bill number and a positive amount."""
    callback = InboundCallback.objects.get(public_id=public_id)
    if callback.status != CallbackStatus.RECEIVED:  # stored as unreadable
        return C2BValidationResult.OTHER_ERROR
    try:
        parsed = parse_c2b(load_json(callback))
        check_amount(parsed.amount, "TransAmount")
    except MalformedCallback as exc:
        mark_malformed(callback, exc)
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
                payload = load_json(callback)
                parsed = parse_c2b(payload)
                # Validation refuses these, but a confirmation may come without it (or
                # forged): out of M-Pesa's limits, it is kept for review, never money.
                check_amount(parsed.amount, "TransAmount")
                readable.append((callback, _c2b_payment(parsed, payload)))
            except MalformedCallback as exc:
                callback.status, callback.error = status_for(exc), str(exc)[:2000]
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
        note_failure(public_id=public_id, error=exc)
    return str(InboundCallback.objects.values_list("status", flat=True).get(public_id=public_id))


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
