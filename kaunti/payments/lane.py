"""Safaricom's callbacks straight from the WSGI server to their service or view (ADR 8).

This is the one lane Safaricom's callbacks take. They are machine-to-machine JSON POSTs,
authenticated by the secret token in the path and the optional address allow-list: no
session, cookie, language, CSRF token, user, second factor, lockout or frame policy
applies to them, so none of Django's middleware, built for browsers, is run for them.
Which requests they are is read from the routes of `kaunti.payments.views.callbacks`,
where the paths are written once; anything else goes to Django untouched.

Safaricom posts one confirmation per payment to the county's paybill, and at the end of a
month or before a deadline that is hundreds a second. Each one is stored as it came and
answered (ADR 7); recording it happens later, in batches. Storing costs two statements,
but even a request object and a response object cost more than the statements
themselves. So when a confirmation's token is right, the sender is allowed and the body
within Django's size limit, the lane stores the payload and answers itself.

Every other callback (validations, STK results) and every confirmation that must be
refused (a wrong token: 404; an address outside `MPESA_ALLOWED_IPS`: 403, kept for
review; a body over `DATA_UPLOAD_MAX_MEMORY_SIZE`: 400; an empty body: 400, so that
Safaricom sends it again) goes to its view as Django's handler would send it, less the
middleware: so every refusal is decided, logged and answered in one place, the views.

A callback sent with `Transfer-Encoding: chunked` has no Content-Length, and Django reads
no body without one: before anything else, the lane reads such a body (gunicorn's
`wsgi.input` ends where the chunks end) and hands it on with its length. A server whose
input does not say where it ends cannot be read safely: that callback is refused (411).
Once a confirmation is stored, it is answered as stored, whatever happens to its
recording; one that could not be stored is answered 503, so that Safaricom sends it again.

What this gives up: middleware added later will not see Safaricom's callbacks.
"""

import io
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.handlers.exception import response_for_exception
from django.core.handlers.wsgi import WSGIRequest, get_path_info, get_script_name
from django.core.signals import request_finished, request_started
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.urls import ResolverMatch, set_script_prefix
from django.utils.log import log_response

from kaunti.core.logging import request_id_var
from kaunti.core.middleware import request_id_for
from kaunti.payments.mpesa import receive as mpesa
from kaunti.payments.mpesa.protocol import callback_acknowledgement, callback_refusal
from kaunti.payments.views import callbacks

logger = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_ACKNOWLEDGEMENT = json.dumps(callback_acknowledgement()).encode()
_NOT_STORED = json.dumps(callback_refusal("Try again later")).encode()
_LENGTH_REQUIRED = json.dumps(callback_refusal("Send a Content-Length")).encode()


class SafaricomCallbackLane:
    """WSGI middleware: Safaricom's callbacks to their service or view; all else to Django."""

    def __init__(self, application: WsgiApp) -> None:
        self.application = application

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        route = _callback_route(environ)
        if route is None:
            return self.application(environ, start_response)
        if _is_chunked(environ):
            if not environ.get("wsgi.input_terminated"):
                return _answer(start_response, "411 Length Required", _LENGTH_REQUIRED, "")
            _take_in_chunked_body(environ)
        if route.func is callbacks.c2b_confirmation and _is_allowed_confirmation(
            environ, route.kwargs["token"]
        ):
            return self._store_and_answer(environ, start_response)
        return self._answer_by_view(environ, start_response, route)

    def _store_and_answer(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request_id = request_id_for(environ.get("HTTP_X_REQUEST_ID", ""))
        token = request_id_var.set(request_id)
        # Django's signals around every request: among others they drop a database
        # connection that is too old or broken, so a restart costs one failed request.
        request_started.send(sender=type(self), environ=environ)
        try:
            body = _read_body(environ)
            mpesa.receive_c2b_confirmation(body=body, remote_addr=environ.get("REMOTE_ADDR", ""))
        except DatabaseError:
            # Not stored (receive_c2b_confirmation raises only then): Safaricom must retry.
            logger.exception("could not store a paybill confirmation")
            return _answer(start_response, "503 Service Unavailable", _NOT_STORED, request_id)
        finally:
            request_finished.send(sender=type(self))
            request_id_var.reset(token)
        return _answer(start_response, "200 OK", _ACKNOWLEDGEMENT, request_id)

    def _answer_by_view(
        self, environ: dict[str, Any], start_response: Callable[..., Any], route: ResolverMatch
    ) -> Iterable[bytes]:
        """What Django's WSGI handler does with a request, less the middleware and the URL
        resolution: the request signals (`request_finished` when the server closes the
        response), the request id, a response for an exception, 4xx and 5xx logged."""
        request_id = request_id_for(environ.get("HTTP_X_REQUEST_ID", ""))
        token = request_id_var.set(request_id)
        set_script_prefix(get_script_name(environ))
        request_started.send(sender=type(self), environ=environ)
        try:
            request = WSGIRequest(environ)
            request.resolver_match = route
            response = _view_response(request, route)
            if response.status_code >= 400:
                log_response(
                    "%s: %s",
                    response.reason_phrase,
                    request.path,
                    response=response,
                    request=request,
                )
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        if not response.streaming and not response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
        return response


def _callback_route(environ: dict[str, Any]) -> ResolverMatch | None:
    """The Safaricom callback a request is a POST to, if it is one. Its patterns are tried
    directly (payments' URLs sit at the root), without a resolver: 12 µs, not 35."""
    if environ.get("REQUEST_METHOD") != "POST":
        return None
    path = get_path_info(environ).removeprefix("/")
    for pattern in callbacks.urlpatterns:
        matched = pattern.pattern.match(path)
        if matched is not None:
            _rest, args, kwargs = matched
            return ResolverMatch(
                pattern.callback, args, kwargs, pattern.name, route=str(pattern.pattern)
            )
    return None


def _view_response(request: HttpRequest, route: ResolverMatch) -> HttpResponse:
    """The view's response, or Django's for the exception it raised (a 500, logged)."""
    try:
        response: HttpResponse = route.func(request, *route.args, **route.kwargs)
    except Exception as exc:  # noqa: BLE001  (as Django's handler does round every view)
        return response_for_exception(request, exc)
    return response


def _is_allowed_confirmation(environ: dict[str, Any], token: str) -> bool:
    if not (
        mpesa.is_callback_token(token) and mpesa.is_allowed_sender(environ.get("REMOTE_ADDR", ""))
    ):
        return False
    length, limit = _content_length(environ), settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return length > 0 and (limit is None or length <= limit)


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


def _is_chunked(environ: dict[str, Any]) -> bool:
    return "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower() and not environ.get(
        "CONTENT_LENGTH"
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
    """The declared length; -1 when it is not a number (the view's request refuses it)."""
    try:
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return -1


def _read_body(environ: dict[str, Any]) -> bytes:
    body: bytes = environ["wsgi.input"].read(_content_length(environ))
    return body
