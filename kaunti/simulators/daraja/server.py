"""The simulator's routes, served by the shared `LocalServer`, and its in-process handle.

`DarajaSimulator(config).start()` serves on a background thread (port 0 picks a free port)
for tests; `python -m kaunti.simulators.daraja` serves in the foreground for demos.
"""

import logging
import re
from collections.abc import Callable
from types import TracebackType
from typing import Final, Self

from kaunti.simulators.daraja import api, control, phone
from kaunti.simulators.daraja.config import (
    PHONE_ANSWERS,
    DeliveryMode,
    Outcome,
    Script,
    SimulatorConfig,
)
from kaunti.simulators.daraja.records import (
    C2BResult,
    CallbackDelivery,
    DeliveryKind,
    Push,
)
from kaunti.simulators.daraja.state import SimulatorState
from kaunti.simulators.daraja.wire import (
    Refusal,
    error_reply,
    normalise_msisdn,
)
from kaunti.simulators.http import SERVER_ERROR, LocalServer, Reply, Request

logger = logging.getLogger(__name__)

Handler = Callable[..., Reply]
# (method, path pattern, handler); named groups become keyword arguments.
ROUTES: Final[tuple[tuple[str, re.Pattern[str], Handler], ...]] = (
    ("GET", re.compile(r"^/oauth/v1/generate$"), api.oauth_generate),
    ("POST", re.compile(r"^/mpesa/stkpush/v1/processrequest$"), api.stk_push),
    ("POST", re.compile(r"^/mpesa/stkpushquery/v1/query$"), api.stk_query),
    ("POST", re.compile(r"^/mpesa/c2b/(?P<version>v1|v2)/registerurl$"), api.c2b_register),
    ("POST", re.compile(r"^/mpesa/c2b/v1/simulate$"), api.c2b_simulate),
    ("GET", re.compile(r"^/simulator/?$"), control.summary),
    ("POST", re.compile(r"^/simulator/outcomes$"), control.set_outcome),
    ("GET", re.compile(r"^/simulator/deliveries$"), control.list_deliveries),
    ("GET", re.compile(r"^/simulator/pushes$"), control.list_pushes),
    ("GET", re.compile(r"^/simulator/requests$"), control.list_requests),
    (
        "POST",
        re.compile(r"^/simulator/prompts/(?P<checkout_request_id>[A-Za-z0-9_]+)$"),
        control.answer_prompt,
    ),
    ("POST", re.compile(r"^/simulator/c2b/pay$"), control.pay_bill),
    ("POST", re.compile(r"^/simulator/tokens/expire$"), control.expire_tokens),
    ("POST", re.compile(r"^/simulator/reset$"), control.reset),
    ("GET", re.compile(r"^/phone/$"), phone.choose_phone),
    ("GET", re.compile(r"^/phone/(?P<number>[0-9+]+)/?$"), phone.show_phone),
    (
        "POST",
        re.compile(r"^/phone/(?P<number>[0-9+]+)/prompts/(?P<checkout_request_id>[A-Za-z0-9_]+)/$"),
        phone.answer_prompt,
    ),
    ("POST", re.compile(r"^/phone/(?P<number>[0-9+]+)/paybill/$"), phone.pay_bill),
)
# The Daraja paths, whose calls are kept in the request log.
_DARAJA_PREFIXES: Final = ("/oauth/", "/mpesa/")


def dispatch(state: SimulatorState, request: Request) -> Reply:
    """Find the route and run it; a `Refusal` raised inside becomes its reply."""
    allowed: list[str] = []
    for method, pattern, handler in ROUTES:
        match = pattern.match(request.path)
        if match is None:
            continue
        if method != request.method:
            allowed.append(method)
            continue
        try:
            return handler(state, request, **match.groupdict())
        except Refusal as refusal:
            return refusal.reply
    if allowed:
        return error_reply(405, "405.001", f"{request.method} Method Not Allowed")
    return error_reply(404, "404.001.01", "Resource not found")


def _handler(state: SimulatorState) -> Callable[[Request], Reply]:
    """`dispatch`, with Daraja's calls kept in the request log (failed ones too)."""

    def handle(request: Request) -> Reply:
        try:
            reply = dispatch(state, request)
        except Exception:  # the server must keep serving after any bug; logged in full
            logger.exception("Daraja simulator failed on %s %s", request.method, request.path)
            reply = SERVER_ERROR
        if request.path.startswith(_DARAJA_PREFIXES):
            state.record_request(request.method, request.path, reply.status, request.json_object())
        return reply

    return handle


class DarajaSimulator:
    """A local Daraja on a real port, for tests (`start`/`stop`) and demos (`serve_forever`)."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.state = SimulatorState(self.config)
        self._server = LocalServer(
            _handler(self.state),
            host=self.config.host,
            port=self.config.port,
            name="daraja-simulator",
            too_large=error_reply(413, "413", "Request entity too large"),
        )

    # --- Lifecycle ------------------------------------------------------------------------

    def bind(self) -> Self:
        """Open the listening socket (so `base_url` is known) without serving yet."""
        self._server.bind()
        return self

    def start(self) -> Self:
        """Serve on a background thread."""
        self._server.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (the command line's mode)."""
        try:
            self._server.serve_forever()
        finally:
            self.stop()

    def stop(self) -> None:
        self.state.shutdown()
        self._server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return self._server.base_url

    def phone_url(self, phone_number: str) -> str:
        """The phone page for a number (any Kenyan form)."""
        msisdn = normalise_msisdn(phone_number) or phone_number
        return f"{self.base_url}{phone.phone_path(msisdn)}"

    # --- In-process control (the /simulator/ endpoints offer the same over HTTP) ---------

    def set_outcome(
        self,
        outcome: Outcome,
        *,
        phone_number: str | None = None,
        delivery: DeliveryMode = DeliveryMode.ONCE,
        delay_seconds: float | None = None,
    ) -> None:
        """Script later pushes to `phone_number`, or to every phone when it is None."""
        msisdn = None if phone_number is None else normalise_msisdn(phone_number)
        if phone_number is not None and msisdn is None:
            raise ValueError(f"{phone_number!r} is not a Kenyan mobile number")
        delay = self.config.script.delay_seconds if delay_seconds is None else delay_seconds
        self.state.set_script(
            Script(outcome=outcome, delivery=delivery, delay_seconds=delay), msisdn=msisdn
        )

    def answer_prompt(self, checkout_request_id: str, answer: str) -> bool:
        """Answer a phone-mode prompt as the phone page would ("pay", "cancel", ...)."""
        outcome = PHONE_ANSWERS.get(answer)
        if outcome is None:
            raise ValueError(f"answer must be one of {sorted(PHONE_ANSWERS)}")
        return self.state.resolve(checkout_request_id, outcome)

    def pay_bill(
        self, *, phone_number: str, amount: int, account: str, shortcode: str | None = None
    ) -> C2BResult:
        """A customer pays the paybill now (validation, then confirmation)."""
        msisdn = normalise_msisdn(phone_number)
        if msisdn is None:
            raise ValueError(f"{phone_number!r} is not a Kenyan mobile number")
        return self.state.pay_bill(
            msisdn=msisdn,
            shortcode=shortcode or self.config.shortcode,
            amount=amount,
            account=account,
        )

    def deliveries(self, kind: DeliveryKind | None = None) -> list[CallbackDelivery]:
        return self.state.deliveries(kind)

    def wait_for_deliveries(
        self, count: int, *, timeout: float = 5.0, kind: DeliveryKind | None = None
    ) -> list[CallbackDelivery]:
        return self.state.wait_for_deliveries(count, timeout=timeout, kind=kind)

    def push(self, checkout_request_id: str) -> Push | None:
        return self.state.push(checkout_request_id)

    def request_count(self, path: str) -> int:
        """How many Daraja calls were made to `path` (e.g. "/oauth/v1/generate")."""
        return len(self.state.requests(path))

    def expire_tokens(self) -> None:
        self.state.expire_tokens()

    def reset(self) -> None:
        self.state.reset()
