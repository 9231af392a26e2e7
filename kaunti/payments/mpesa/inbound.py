"""What Safaricom sends us, applied: the parts STK callbacks (`stk_callbacks`) and
paybill validation and confirmation (`c2b`) share.

Every payload is stored raw first, in its own committed transaction, so nothing is lost
whatever happens next (`receive`); it is then applied in one transaction, so a failure
part-way leaves nothing half done. A payload that cannot be read is marked here, for an
officer to look at when it may be money.
"""

import json
import logging
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kaunti.payments.models import (
    CallbackStatus,
    InboundCallback,
)
from kaunti.payments.mpesa.callbacks import (
    MalformedCallback,
    NeedsReview,
    check_mpesa_amount,
)
from kaunti.payments.mpesa.protocol import MPESA_MIN_AMOUNT
from kaunti.payments.services.callback_store import has_unstorable_text

logger = logging.getLogger(__name__)

STK_PROVIDER = "mpesa-stk"
C2B_PROVIDER = "mpesa-c2b"


def status_for(exc: MalformedCallback) -> str:
    """MALFORMED for a payload that cannot be read; REVIEW for one that reads but carries
    what M-Pesa never sends (it may be money: an officer looks)."""
    return CallbackStatus.REVIEW if isinstance(exc, NeedsReview) else CallbackStatus.MALFORMED


def mark_malformed(callback: InboundCallback, exc: MalformedCallback) -> None:
    callback.status = status_for(exc)
    callback.error = str(exc)[:2000]
    callback.processed_at = timezone.now()
    callback.save(update_fields=["status", "error", "processed_at"])
    logger.warning("%s %s callback %s: %s", callback.status, callback.kind, callback.pk, exc)


def load_json(callback: InboundCallback) -> dict[str, Any]:
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


def check_amount(amount: Decimal, name: str) -> None:
    """M-Pesa's own limits for one payment: KES 1 to MPESA_MAX_AMOUNT."""
    check_mpesa_amount(
        amount,
        least=Decimal(MPESA_MIN_AMOUNT),
        most=Decimal(settings.MPESA_MAX_AMOUNT),
        name=name,
    )


# A callback whose recording failed this many times waits for an officer's review.
MAX_CONFIRMATION_ATTEMPTS = 5


def note_failure(*, public_id: UUID | str, error: Exception) -> None:
    """Count a failed try at applying a stored callback, and why; after
    `MAX_CONFIRMATION_ATTEMPTS` it waits for an officer's review."""
    with transaction.atomic():
        callback = InboundCallback.objects.select_for_update().get(public_id=public_id)
        callback.attempts += 1
        callback.error = f"{type(error).__name__}: {error}"[:2000]
        if callback.attempts >= MAX_CONFIRMATION_ATTEMPTS:
            callback.status = CallbackStatus.REVIEW
        callback.save(update_fields=["attempts", "error", "status"])
