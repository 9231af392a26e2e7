"""Times every request that passes through Django: its route, its status, and the time it
spent on the database. (M-Pesa's callbacks take the WSGI lane below Django, ADR 8: they
are counted by the figures of stored callbacks, not here.)"""

import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from django.db import connections
from django.http import HttpRequest, HttpResponse

from kaunti.core.metrics.instruments import (
    HTTP_DB_QUERIES,
    HTTP_DB_TIME,
    HTTP_LATENCY,
    HTTP_REQUESTS,
)

# A path no route matches (a 404 before any view): one label, not one per path typed.
UNMATCHED = "<unmatched>"


class _DatabaseTimer:
    def __init__(self) -> None:
        self.seconds = 0.0
        self.queries = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.queries += 1


def view_label(request: HttpRequest) -> str:
    """The route's name (`payments:my_bills`), never the path: paths carry ids."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNMATCHED
    return str(match.view_name or match.route or UNMATCHED)


class MetricsMiddleware:
    """First in MIDDLEWARE, so its time covers the others too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        timer = _DatabaseTimer()
        started = time.perf_counter()
        status = 500
        try:
            with ExitStack() as stack:
                for connection in connections.all():
                    stack.enter_context(connection.execute_wrapper(timer))
                response = self.get_response(request)
            status = response.status_code
            return response
        finally:
            elapsed = time.perf_counter() - started
            view = view_label(request)
            method = request.method if request.method in _METHODS else "other"
            HTTP_REQUESTS.labels(view, method, str(status)).inc()
            HTTP_LATENCY.labels(view, method).observe(elapsed)
            HTTP_DB_TIME.labels(view).observe(timer.seconds)
            if timer.queries:
                HTTP_DB_QUERIES.labels(view).inc(timer.queries)


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
