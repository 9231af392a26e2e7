"""Africa's Talking's callbacks (USSD steps, SMS delivery reports, SMS texted to us) and
the staff page of SMS that did not get through.

The callbacks are form POSTs from the gateway: no session, no CSRF token. Each must carry
the setting `AFRICASTALKING_CALLBACK_TOKEN` as `?token=` (the gateway does not sign its
callbacks; register the URLs with the token). Production requires the setting; in
development, left empty, the callbacks are taken without a token.
"""

import hashlib
import hmac
import logging
import time
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from kaunti.accounts.decorators import staff_required
from kaunti.core import ratelimit
from kaunti.core.identifiers import mask_phone, normalise_phone
from kaunti.core.middleware import keeps_raw_input
from kaunti.core.models import OutboxMessage
from kaunti.core.services import outbox
from kaunti.ussd import engine, services
from kaunti.ussd.engine import Engine, end
from kaunti.ussd.menus import SCREENS
from kaunti.ussd.selectors import get_phone_language

logger = logging.getLogger(__name__)

VIEW_OUTBOX = "core.view_outbox"
SESSIONS_PER_PHONE_PER_MINUTE = 10
SESSIONS_PER_PHONE_PER_HOUR = 60
PAGE_SIZE = 50


def _expired_text(language: str) -> str:
    with translation.override(language):
        return _("Your session has ended. Please dial again.")


ENGINE = Engine(
    SCREENS, language_of=lambda phone: get_phone_language(phone=phone), expired_text=_expired_text
)


def _session_refusal(phone: str) -> Promise | None:
    """Why `phone` may not start a session now, or None. Two windows: a burst a minute
    (a script dialling in a loop) and a total an hour (one dialling all day). A person
    whose sessions drop and who dials again stays far below both."""
    per_minute = int(
        getattr(settings, "USSD_SESSIONS_PER_PHONE_PER_MINUTE", SESSIONS_PER_PHONE_PER_MINUTE)
    )
    per_hour = int(
        getattr(settings, "USSD_SESSIONS_PER_PHONE_PER_HOUR", SESSIONS_PER_PHONE_PER_HOUR)
    )
    if not ratelimit.allow(scope="ussd", identity=phone, limit=per_minute, window_seconds=60):
        return gettext_lazy("Too many requests. Please try again in a minute.")
    if not ratelimit.allow(scope="ussd-hour", identity=phone, limit=per_hour, window_seconds=3600):
        return gettext_lazy("This phone has dialled many times this hour. Please try again later.")
    return None


def _text(body: str, status: int = 200) -> HttpResponse:
    return HttpResponse(body, content_type="text/plain; charset=utf-8", status=status)


def _token_ok(request: HttpRequest) -> bool:
    # Empty only in development: settings refuse to start production without a token.
    expected = settings.AFRICASTALKING_CALLBACK_TOKEN
    if not expected:
        return True
    # As bytes: compare_digest refuses str with non-ASCII characters (a 500, not a 403).
    return hmac.compare_digest(request.GET.get("token", "").encode(), expected.encode())


@keeps_raw_input
@csrf_exempt
@require_POST
def africastalking_ussd(request: HttpRequest) -> HttpResponse:
    """One step of a USSD session: answer "CON ..." (more to come) or "END ..."."""
    if not _token_ok(request):
        return _text("Forbidden", status=403)
    session_id = request.POST.get("sessionId", "").strip()
    text = request.POST.get("text", "").strip()
    try:
        phone = normalise_phone(request.POST.get("phoneNumber", ""))
    except ValidationError:
        return _text(end(_("This service is for Kenyan mobile numbers.")))
    if not session_id or len(session_id) > 200:
        return _text(end(_("Your session has ended. Please dial again.")))
    # Sessions started per phone are limited here; steps within a session by the engine
    # (`USSD_STEPS_PER_SESSION`), so a continuing step costs no rate-limit round trip.
    if not text and not engine.is_open_session(session_id):
        refusal = _session_refusal(phone)
        if refusal:
            with translation.override(get_phone_language(phone=phone) or "en"):
                return _text(end(str(refusal)))
    started = time.monotonic()
    try:
        step = ENGINE.answer(session_id=session_id, phone=phone, text=text)
    except DatabaseError:
        logger.exception("ussd step failed")
        with translation.override(settings.LANGUAGE_CODE):
            return _text(end(_("The service is busy. Please try again later.")))
    # No inputs in the log: they can be ID numbers or names. The session is hashed.
    logger.info(
        "ussd step session=%s network=%s screen=%s outcome=%s ms=%.1f",
        hashlib.sha256(session_id.encode()).hexdigest()[:12],
        request.POST.get("networkCode", "")[:10],
        step.screen,
        step.outcome,
        (time.monotonic() - started) * 1000,
    )
    return _text(step.reply)


@keeps_raw_input
@csrf_exempt
@require_POST
def africastalking_delivery_report(request: HttpRequest) -> HttpResponse:
    """An SMS delivery report: update the outbox message it names (unknown ids ignored)."""
    if not _token_ok(request):
        return _text("Forbidden", status=403)
    message = outbox.record_delivery_report(
        provider_message_id=request.POST.get("id", "").strip(),
        status=request.POST.get("status", "").strip(),
        failure_reason=request.POST.get("failureReason", "").strip(),
    )
    logger.info(
        "sms delivery report status=%s matched=%s",
        request.POST.get("status", "")[:20],
        message is not None,
    )
    return _text("OK")


@keeps_raw_input
@csrf_exempt
@require_POST
def africastalking_inbound_sms(request: HttpRequest) -> HttpResponse:
    """An SMS texted to the county's shortcode: answer its command by SMS."""
    if not _token_ok(request):
        return _text("Forbidden", status=403)
    provider_id = request.POST.get("id", "").strip()
    if not provider_id:
        return _text("Missing id", status=400)
    services.answer_inbound_sms(
        provider_message_id=provider_id,
        sender=request.POST.get("from", ""),
        text=request.POST.get("text", ""),
    )
    return _text("OK")


@require_GET
@staff_required(VIEW_OUTBOX)
def undelivered_sms(request: HttpRequest) -> HttpResponse:
    """SMS that failed to send or to arrive, and those still being retried."""
    page = Paginator(
        outbox.list_undelivered_messages().order_by("-created_at", "-pk"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    rows = [{"message": message, "recipient": _recipient(message)} for message in page]
    return render(request, "ussd/undelivered_sms.html", {"page": page, "rows": rows})


def _recipient(message: OutboxMessage) -> str:
    """Enough of the number to recognise it (staff need not read whole numbers)."""
    try:
        return mask_phone(normalise_phone(message.recipient))
    except ValidationError:
        return message.recipient[:4] + "..."


@require_POST
@staff_required(VIEW_OUTBOX)
def retry_sms(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Send a failed SMS again, from a fresh round of attempts."""
    message = outbox.requeue_failed_message(public_id=public_id, actor=request.user)
    if message is None:
        raise Http404
    messages.success(request, _("The message is queued to be sent again."))
    return redirect("ussd:undelivered_sms")
