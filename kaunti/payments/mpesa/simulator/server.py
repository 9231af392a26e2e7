"""The simulator's HTTP server (stdlib `ThreadingHTTPServer`) and its in-process handle.

`DarajaSimulator(config).start()` serves on a background thread (port 0 picks a free port)
for tests; `python -m kaunti.payments.mpesa.simulator` serves in the foreground for demos.
"""

import logging
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Final, Self
from urllib.parse import parse_qs, urlsplit

from kaunti.payments.mpesa.simulator import api, control, phone
from kaunti.payments.mpesa.simulator.config import (
    PHONE_ANSWERS,
    DeliveryMode,
    Outcome,
    Script,
    SimulatorConfig,
)
from kaunti.payments.mpesa.simulator.records import (
    C2BResult,
    CallbackDelivery,
    DeliveryKind,
    Push,
)
from kaunti.payments.mpesa.simulator.state import SimulatorState
from kaunti.payments.mpesa.simulator.wire import (
    Refusal,
    Reply,
    Request,
    error_reply,
    json_reply,
    normalise_msisdn,
)

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
_MAX_BODY_BYTES: Final = 1_000_000


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


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: SimulatorState) -> None:
        self.state = state
        super().__init__(address, _RequestHandler)


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def _handle(self) -> None:
        state = self.server.state
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY_BYTES:
            self._write(error_reply(413, "413", "Request entity too large"))
            return
        request = Request(
            method=self.command,
            path=parts.path,
            query={name: values[0] for name, values in parse_qs(parts.query).items()},
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        try:
            reply = dispatch(state, request)
        except Exception:  # the server must keep serving after any bug; logged in full
            logger.exception("Daraja simulator failed on %s %s", request.method, request.path)
            reply = json_reply(500, {"errorCode": "500", "errorMessage": "Simulator error"})
        if request.path.startswith(_DARAJA_PREFIXES):
            state.record_request(request.method, request.path, reply.status, request.json_object())
        self._write(reply)
        if reply.after is not None:
            try:
                reply.after()
            except Exception:  # as above: report it, keep serving
                logger.exception("Daraja simulator follow-up failed on %s", request.path)

    def _write(self, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)
        self.wfile.flush()


class DarajaSimulator:
    """A local Daraja on a real port, for tests (`start`/`stop`) and demos (`serve_forever`)."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.state = SimulatorState(self.config)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- Lifecycle ------------------------------------------------------------------------

    def bind(self) -> Self:
        """Open the listening socket (so `base_url` is known) without serving yet."""
        if self._server is None:
            self._server = _Server((self.config.host, self.config.port), self.state)
        return self

    def start(self) -> Self:
        """Serve on a background thread."""
        server = self.bind()._server
        assert server is not None
        # A short poll interval keeps stop() quick (shutdown waits for one poll).
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="daraja-simulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (the command line's mode)."""
        server = self.bind()._server
        assert server is not None
        try:
            server.serve_forever()
        finally:
            self.stop()

    def stop(self) -> None:
        self.state.shutdown()
        if self._server is not None:
            if self._thread is not None:
                self._server.shutdown()
                self._thread.join(timeout=5)
            self._server.server_close()
        self._server = None
        self._thread = None

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
        if self._server is None:
            raise RuntimeError("the simulator is not started")
        host, port = self._server.server_address[:2]
        shown = host.decode() if isinstance(host, bytes) else host
        return f"http://{shown}:{port}"

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
