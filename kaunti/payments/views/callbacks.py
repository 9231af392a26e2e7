"""Safaricom's callbacks (paths registered with Safaricom, so fixed), answered in its shapes.

Each view checks the secret path token and the optional address allow-list, stores the
payload raw, applies it, and answers at once. A malformed payload is answered too (so
Safaricom does not hammer us with retries), logged and kept for review.

`urlpatterns` below is the one place the callback paths are written: the URLconf includes
it, the WSGI lane (`kaunti.payments.lane`, ADR 8) resolves POSTs against it, and the URLs
registered with Safaricom are reversed from it. The lane serves these POSTs without
Django's middleware, so a view here may not rely on any.
"""

import logging

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from kaunti.core.maintenance import open_during_maintenance
from kaunti.core.middleware import keeps_raw_input
from kaunti.payments.models import CallbackStatus
from kaunti.payments.mpesa import c2b, receive
from kaunti.payments.mpesa.protocol import (
    C2BValidationResult,
    c2b_validation_response,
    callback_acknowledgement,
    callback_refusal,
)
from kaunti.payments.services import callback_store

logger = logging.getLogger(__name__)


def _source_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _refusal(request: HttpRequest, token: str, kind: str) -> HttpResponse | None:
    """404 for a wrong token (reveal nothing); 403, kept for review, for a foreign address."""
    if not receive.is_callback_token(token):
        return HttpResponse(status=404)
    address = _source_address(request)
    if not receive.is_allowed_sender(address):
        try:
            callback_store.store_callback(
                kind=kind,
                body=request.body,
                remote_addr=address,
                status=CallbackStatus.REVIEW,
                error="source address not on MPESA_ALLOWED_IPS",
            )
        except DatabaseError:  # kept only for review: the refusal stands without it
            logger.exception("could not keep a refused %s callback", kind)
        logger.warning("refused a %s callback from %s", kind, address)
        return HttpResponse(status=403)
    return None


def _empty_body() -> HttpResponse:
    """Nothing to keep (a body lost on the way, e.g. sent chunked past a proxy that drops
    it): answering success would lose the payment, so Safaricom is asked to send it again."""
    logger.warning("refused a callback with an empty body")
    return JsonResponse(callback_refusal("Empty body"), status=400)


def _not_stored(kind: str) -> HttpResponse:
    """The payload could not be kept (the database is down or locked): Safaricom retries."""
    logger.exception("could not store a %s callback", kind)
    return JsonResponse(callback_refusal("Try again later"), status=503)


@open_during_maintenance
@keeps_raw_input
@csrf_exempt
@require_POST
def stk_callback(request: HttpRequest, token: str) -> HttpResponse:
    if (refused := _refusal(request, token, "mpesa_stk")) is not None:
        return refused
    if not request.body:
        return _empty_body()
    try:
        receive.receive_stk_callback(body=request.body, remote_addr=_source_address(request))
    except DatabaseError:
        return _not_stored("mpesa_stk")
    return JsonResponse(callback_acknowledgement())


@open_during_maintenance
@keeps_raw_input
@csrf_exempt
@require_POST
def c2b_validation(request: HttpRequest, token: str) -> HttpResponse:
    if (refused := _refusal(request, token, "mpesa_c2b_validation")) is not None:
        return refused
    if not request.body:
        return _empty_body()
    try:
        callback = callback_store.store_callback(
            kind="mpesa_c2b_validation", body=request.body, remote_addr=_source_address(request)
        )
        result: C2BValidationResult = c2b.validate_c2b(public_id=callback.public_id)
    except DatabaseError:
        return _not_stored("mpesa_c2b_validation")
    return JsonResponse(c2b_validation_response(result))


@open_during_maintenance
@keeps_raw_input
@csrf_exempt
@require_POST
def c2b_confirmation(request: HttpRequest, token: str) -> HttpResponse:
    if (refused := _refusal(request, token, "mpesa_c2b_confirmation")) is not None:
        return refused
    if not request.body:
        return _empty_body()
    try:
        receive.receive_c2b_confirmation(body=request.body, remote_addr=_source_address(request))
    except DatabaseError:
        return _not_stored("mpesa_c2b_confirmation")
    return JsonResponse(callback_acknowledgement())


urlpatterns = [
    path("payments/mpesa/stk/callback/<str:token>/", stk_callback, name="mpesa_stk_callback"),
    path("payments/mpesa/c2b/validation/<str:token>/", c2b_validation, name="mpesa_c2b_validation"),
    path(
        "payments/mpesa/c2b/confirmation/<str:token>/",
        c2b_confirmation,
        name="mpesa_c2b_confirmation",
    ),
    # The same endpoints without "mpesa" in the path: Safaricom is reported to refuse C2B
    # URLs containing it at registration, so these are the ones `register_c2b_urls` sends.
    path("payments/paybill/validation/<str:token>/", c2b_validation, name="paybill_validation"),
    path(
        "payments/paybill/confirmation/<str:token>/", c2b_confirmation, name="paybill_confirmation"
    ),
]
