"""A short way in for Safaricom's callbacks.

They are machine-to-machine JSON POSTs, authenticated by the secret token in the path
(and the optional address allow-list): no session, cookie, language, CSRF token, user,
second factor, lockout or frame policy applies to them. Placed right after the request
id, this sends them straight to their views, past the middleware built for browsers;
every callback costs that much less CPU before Safaricom is answered. Anything else, and
any path under these prefixes that is not a callback, goes down the whole stack.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

CALLBACK_PREFIXES = ("/payments/mpesa/", "/payments/paybill/")
CALLBACK_VIEWS = frozenset(
    {
        "mpesa_stk_callback",
        "mpesa_c2b_validation",
        "mpesa_c2b_confirmation",
        "paybill_validation",
        "paybill_confirmation",
    }
)


class SafaricomCallbackMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.path_info.startswith(CALLBACK_PREFIXES):
            try:
                match = resolve(request.path_info)
            except Resolver404:
                return self.get_response(request)
            if match.url_name in CALLBACK_VIEWS and match.namespace == "payments":
                request.resolver_match = match
                response: HttpResponse = match.func(request, *match.args, **match.kwargs)
                # What CommonMiddleware would add: a length, so no chunked encoding.
                if not response.streaming and not response.has_header("Content-Length"):
                    response.headers["Content-Length"] = str(len(response.content))
                return response
        return self.get_response(request)
