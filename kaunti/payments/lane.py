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
body over `DATA_UPLOAD_MAX_MEMORY_SIZE`: 400; an empty body: 400, so that Safaricom sends
it again), so every refusal is decided, logged and answered in one place: the views.

A callback sent with `Transfer-Encoding: chunked` has no Content-Length, and Django reads
no body without one: before anything else, the lane reads such a body (gunicorn's
`wsgi.input` ends where the chunks end) and hands it on with its length. A server whose
input does not say where it ends cannot be read safely: that callback is refused (411).
Once a confirmation is stored, it is answered as stored, whatever happens to its
recording; one that could not be stored is answered 503, so that Safaricom sends it again.
"""

import io
import json
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import DatabaseError

from kaunti.core.logging import request_id_var
from kaunti.core.middleware import request_id_for
from kaunti.payments.middleware import CALLBACK_PREFIXES
from kaunti.payments.mpesa import receive as mpesa
from kaunti.payments.mpesa.protocol import callback_acknowledgement, callback_refusal

logger = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# The confirmation paths as registered with Safaricom (views/callbacks.py has the same).
_CONFIRMATION_PATH = re.compile(r"^/payments/(?:mpesa/c2b|paybill)/confirmation/(?P<token>[^/]+)/$")
_ACKNOWLEDGEMENT = json.dumps(callback_acknowledgement()).encode()
_NOT_STORED = json.dumps(callback_refusal("Try again later")).encode()
_LENGTH_REQUIRED = json.dumps(callback_refusal("Send a Content-Length")).encode()


class PaybillConfirmationLane:
    """WSGI middleware: store and answer an allowed paybill confirmation; all else to Django."""

    def __init__(self, application: WsgiApp) -> None:
        self.application = application

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST":
            if _is_chunked_callback(environ):
                if not environ.get("wsgi.input_terminated"):
                    return _answer(start_response, "411 Length Required", _LENGTH_REQUIRED, "")
                _take_in_chunked_body(environ)
            if self._is_allowed_confirmation(environ):
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
        return length > 0 and (limit is None or length <= limit)

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
        except DatabaseError:
            # Not stored (receive_c2b_confirmation raises only then): Safaricom must retry.
            logger.exception("could not store a paybill confirmation")
            return _answer(start_response, "503 Service Unavailable", _NOT_STORED, request_id)
        finally:
            request_finished.send(sender=PaybillConfirmationLane)
            request_id_var.reset(token)
        return _answer(start_response, "200 OK", _ACKNOWLEDGEMENT, request_id)


def _answer(
    start_response: Callable[..., Any], status: str, content: bytes, request_id: str
) -> list[bytes]:
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(content))),
        ("X-Content-Type-Options", "nosniff"),
    ]
    if request_id:
        headers.append(("X-Request-ID", request_id))
    start_response(status, headers)
    return [content]


def _is_chunked_callback(environ: dict[str, Any]) -> bool:
    return (
        "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        and not environ.get("CONTENT_LENGTH")
        and environ.get("PATH_INFO", "").startswith(CALLBACK_PREFIXES)
    )


def _take_in_chunked_body(environ: dict[str, Any]) -> None:
    """Read a chunked body, and pass it on as if it had come with its length. Past Django's
    size limit only the limit and a byte are read: the length then says too large (400)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    stream = environ["wsgi.input"]
    body: bytes = stream.read() if limit is None else stream.read(limit + 1)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))


def _content_length(environ: dict[str, Any]) -> int:
    """The declared length; -1 when it is not a number (Django answers that one)."""
    try:
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return -1


def _read_body(environ: dict[str, Any]) -> bytes:
    body: bytes = environ["wsgi.input"].read(_content_length(environ))
    return body
