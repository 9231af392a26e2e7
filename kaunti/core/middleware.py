"""Request id for logs, the Content-Security-Policy header on every response, and a 400
for input the database cannot store."""

import re
import uuid
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.urls import Resolver404, resolve
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from kaunti.core.logging import request_id_var

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def request_id_for(incoming: str) -> str:
    """The proxy's `X-Request-ID` when it is sane, otherwise a new one."""
    return incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex


class RequestIdMiddleware:
    """Takes `X-Request-ID` from the proxy when it is sane, otherwise makes one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_for(request.headers.get("X-Request-ID", ""))
        # Django logs a refused request after this returns: the id stays on the request.
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


class ContentSecurityPolicyMiddleware:
    """A strict policy: scripts and styles only from our own files, nothing inline."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)")
        return response


# PostgreSQL stores no NUL (U+0000) in text, and a lone surrogate cannot be encoded at all:
# either in a query reaches the database as an error, so a 500.
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")

_FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
PROBLEM_CONTENT_TYPE = "application/problem+json"


View = TypeVar("View", bound=Callable[..., HttpResponse])


def keeps_raw_input(view: View) -> View:
    """Marks a machine callback's view (Safaricom's M-Pesa, Africa's Talking's USSD and
    SMS): it keeps its input as received, NUL bytes and all, for review, so
    `RefuseUnstorableInputMiddleware` lets its requests through. Each app marks its own
    views, so no list of their paths is kept here. Like `csrf_exempt`'s, the mark is an
    attribute, which the decorators that wrap a view (`functools.wraps`) carry outward."""
    view.keeps_raw_input = True  # type: ignore[attr-defined]
    return view


def _is_for_raw_input_view(request: HttpRequest) -> bool:
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return False
    return bool(getattr(match.func, "keeps_raw_input", False))


def _has_unstorable(values: Iterable[str]) -> bool:
    return any(_UNSTORABLE.search(value) for value in values)


def has_unstorable_input(request: HttpRequest) -> bool:
    """A NUL or a lone surrogate in the path, a query parameter or a form field (names,
    values and uploaded files' names)."""
    if _has_unstorable([request.path_info]):
        return True
    if _has_unstorable(key for key in request.GET) or _has_unstorable(
        value for values in request.GET.lists() for value in values[1]
    ):
        return True
    if request.method == "POST" and request.content_type in _FORM_CONTENT_TYPES:
        if _has_unstorable(key for key in request.POST) or _has_unstorable(
            value for values in request.POST.lists() for value in values[1]
        ):
            return True
        if _has_unstorable(
            str(upload.name or "") for uploads in request.FILES.lists() for upload in uploads[1]
        ):
            return True
    return False


class RefuseUnstorableInputMiddleware:
    """Answers 400 to a request carrying a character the database cannot store, before any
    view turns it into a query: a page in the caller's language (both languages on it), or
    an RFC 9457 problem document under /api/. After `LocaleMiddleware` (the language) and
    before anything that reads the session or the user from the database. The path is
    resolved only for such a request, to let through the views marked `keeps_raw_input`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not has_unstorable_input(request) or _is_for_raw_input_view(request):
            return self.get_response(request)
        if request.path_info.startswith("/api/"):
            return JsonResponse(
                {
                    "type": "about:blank",
                    "title": "Bad Request",
                    "status": 400,
                    "detail": _(
                        "The request contains a character that cannot be stored, such as a "
                        "NUL byte. Remove it and try again."
                    ),
                },
                status=400,
                content_type=PROBLEM_CONTENT_TYPE,
            )
        # Both languages, the caller's first: the page renders without the database.
        first = get_language() or settings.LANGUAGE_CODE
        languages = [first] + [code for code, _name in settings.LANGUAGES if code != first]
        page = loader.get_template("400.html").render({"languages": languages})
        return HttpResponse(page, status=400)
