"""What we ask of Daraja: sending STK prompts, and querying those whose callback never came.

These run in Celery tasks, outside any request, because they wait on the network.
"""

import logging
from datetime import timedelta
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from kaunti.payments.models import (
    CallbackStatus,
    Channel,
    InboundCallback,
    StkRequest,
    StkStatus,
)
from kaunti.payments.mpesa import inbound, stk_callbacks
from kaunti.payments.mpesa.client import DarajaClient, DarajaConfig, DarajaError
from kaunti.payments.services.recording import record_payment

logger = logging.getLogger(__name__)


def daraja_client() -> DarajaClient:
    return DarajaClient(
        DarajaConfig(
            base_url=settings.MPESA_BASE_URL,
            consumer_key=settings.MPESA_CONSUMER_KEY,
            consumer_secret=settings.MPESA_CONSUMER_SECRET,
            shortcode=settings.MPESA_SHORTCODE,
            passkey=settings.MPESA_PASSKEY,
            callback_base_url=settings.MPESA_CALLBACK_BASE_URL,
            c2b_register_version=settings.MPESA_C2B_REGISTER_VERSION,
        )
    )


def _callback_url(name: str) -> str:
    """Where Safaricom reaches the callback `name`: its path from the URLconf, our token."""
    path = reverse(name, kwargs={"token": settings.MPESA_CALLBACK_TOKEN})
    return settings.MPESA_CALLBACK_BASE_URL.rstrip("/") + path


def stk_callback_url() -> str:
    return _callback_url("payments:mpesa_stk_callback")


def send_stk_push(*, public_id: UUID | str, client: DarajaClient | None = None) -> StkRequest:
    """Send a requested prompt to Daraja (outside any transaction: it is a network call)."""
    request = StkRequest.objects.select_related("bill").get(public_id=public_id)
    if request.status != StkStatus.REQUESTED:
        return request
    client = client or daraja_client()
    try:
        accepted = client.stk_push(
            phone=request.phone,
            amount=request.amount,
            account_reference=request.bill.number,
            description="County bill",
            callback_url=stk_callback_url(),
        )
    except DarajaError as exc:
        StkRequest.objects.filter(pk=request.pk, status=StkStatus.REQUESTED).update(
            status=StkStatus.ERROR, result_desc=str(exc)[:255], resolved_at=timezone.now()
        )
        logger.warning("STK push for %s failed: %s", request.bill.number, exc)
    else:
        StkRequest.objects.filter(pk=request.pk, status=StkStatus.REQUESTED).update(
            status=StkStatus.PENDING,
            checkout_request_id=accepted.checkout_request_id,
            merchant_request_id=accepted.merchant_request_id,
        )
        # A callback may have beaten us here: apply it now rather than at its next retry.
        for waiting in InboundCallback.objects.filter(
            kind="mpesa_stk", reference=accepted.checkout_request_id, status=CallbackStatus.WAITING
        ).values_list("public_id", flat=True):
            stk_callbacks.process_stk_callback(public_id=waiting)
    request.refresh_from_db()
    return request


def resolve_pending_stk_requests(
    *, older_than_seconds: int | None = None, client: DarajaClient | None = None
) -> int:
    """Ask Daraja about prompts whose callback never came; mark them paid or failed."""
    age = (
        older_than_seconds
        if older_than_seconds is not None
        else settings.MPESA_STK_QUERY_AFTER_SECONDS
    )
    cutoff = timezone.now() - timedelta(seconds=age)
    pending = StkRequest.objects.filter(
        status=StkStatus.PENDING, created_at__lte=cutoff
    ).values_list("public_id", flat=True)[:200]
    client = client or daraja_client()
    resolved = 0
    for public_id in pending:
        request = StkRequest.objects.get(public_id=public_id)
        try:
            result = client.stk_query(checkout_request_id=request.checkout_request_id or "")
        except DarajaError as exc:
            logger.info("STK query for %s failed: %s", request.checkout_request_id, exc)
            continue
        with transaction.atomic():
            locked = (
                StkRequest.objects.select_for_update().select_related("bill").get(pk=request.pk)
            )
            if locked.status != StkStatus.PENDING:
                continue
            locked.query_attempts += 1
            if result.pending:
                if locked.query_attempts >= settings.MPESA_STK_MAX_QUERIES:
                    locked.status, locked.result_desc = StkStatus.FAILED, "No answer from M-Pesa"
                    locked.resolved_at = timezone.now()
                locked.save(
                    update_fields=["query_attempts", "status", "result_desc", "resolved_at"]
                )
                continue
            if str(result.result_code) == "0":
                recorded = record_payment(
                    provider=inbound.STK_PROVIDER,
                    external_ref=locked.checkout_request_id or "",
                    channel=Channel.MPESA_STK,
                    amount=Decimal(locked.amount),
                    paid_at=timezone.now(),
                    bill_number=locked.bill.number,
                    payer_phone=locked.phone,
                    raw={"stk_query": result.result_desc},
                )
                locked.status, locked.payment = StkStatus.PAID, recorded.payment
            else:
                locked.status = StkStatus.FAILED
            locked.result_code = str(result.result_code or "")
            locked.result_desc = result.result_desc[:255]
            locked.resolved_at = timezone.now()
            locked.save()
            resolved += 1
    return resolved


def registered_c2b_urls() -> tuple[str, str]:
    """The (confirmation, validation) URLs Safaricom must call for paybill payments."""
    return (
        _callback_url("payments:paybill_confirmation"),
        _callback_url("payments:paybill_validation"),
    )
