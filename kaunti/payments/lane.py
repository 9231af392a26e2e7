"""Paybill confirmations straight from the WSGI server to their service (ADR 8).

Safaricom posts one confirmation per payment to the county's paybill, and at the end of a
month or before a deadline that is hundreds a second. Each one is stored as it came and
answered (ADR 7); recording it happens later, in batches. Storing costs two statements,
but taking the request through Django (request object, signals, URL resolution, the
middleware, the response object) cost more than the statements themselves. This WSGI
wrapper recognises a confirmation by its fixed path and method, and when the path's token
is right, the sender is allowed and the body within Django's size limit, it stores the
payload and answers itself.

Everything else goes to Django untouched, and so does a confirmation that must be refused
(a wrong token: 404; an address outside `MPESA_ALLOWED_IPS`: 403, kept for review; a
body over `DATA_UPLOAD_MAX_MEMORY_SIZE`: 400), so every refusal is decided, logged and
answered in one place: the views.
"""

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.signals import request_finished, request_started

from kaunti.core.logging import request_id_var
from kaunti.core.middleware import request_id_for
from kaunti.payments.mpesa.protocol import callback_acknowledgement
from kaunti.payments.services import mpesa

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# The confirmation paths as registered with Safaricom (views/callbacks.py has the same).
_CONFIRMATION_PATH = re.compile(r"^/payments/(?:mpesa/c2b|paybill)/confirmation/(?P<token>[^/]+)/$")
_ACKNOWLEDGEMENT = json.dumps(callback_acknowledgement()).encode()


class PaybillConfirmationLane:
    """WSGI middleware: store and answer an allowed paybill confirmation; all else to Django."""

    def __init__(self, application: WsgiApp) -> None:
        self.application = application

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST" and self._is_allowed_confirmation(environ):
            return self._store_and_answer(environ, start_response)
        return self.application(environ, start_response)

    @staticmethod
    def _is_allowed_confirmation(environ: dict[str, Any]) -> bool:
        match = _CONFIRMATION_PATH.match(environ.get("PATH_INFO", ""))
        if match is None:
            return False
        if not (
            mpesa.is_callback_token(match["token"])
            and mpesa.is_allowed_sender(environ.get("REMOTE_ADDR", ""))
        ):
            return False
        length, limit = _content_length(environ), settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return length >= 0 and (limit is None or length <= limit)

    @staticmethod
    def _store_and_answer(
        environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request_id = request_id_for(environ.get("HTTP_X_REQUEST_ID", ""))
        token = request_id_var.set(request_id)
        # Django's signals around every request: among others they drop a database
        # connection that is too old or broken, so a restart costs one failed request.
        request_started.send(sender=PaybillConfirmationLane, environ=environ)
        try:
            body = _read_body(environ)
            mpesa.receive_c2b_confirmation(body=body, remote_addr=environ.get("REMOTE_ADDR", ""))
        finally:
            request_finished.send(sender=PaybillConfirmationLane)
            request_id_var.reset(token)
        start_response(
            "200 OK",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(_ACKNOWLEDGEMENT))),
                ("X-Request-ID", request_id),
                ("X-Content-Type-Options", "nosniff"),
            ],
        )
        return [_ACKNOWLEDGEMENT]


def _content_length(environ: dict[str, Any]) -> int:
    """The declared length; -1 when it is not a number (Django answers that one)."""
    try:
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return -1


def _read_body(environ: dict[str, Any]) -> bytes:
    body: bytes = environ["wsgi.input"].read(_content_length(environ))
    return body
