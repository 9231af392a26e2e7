"""The HTTP plumbing both simulators share: a parsed request in, a reply out, and a small
threaded server that turns one into the other.

A simulator is a plain function from `Request` to `Reply` (`LocalServer(handle)`), so its
own modules hold only what the real service does; this module holds how bytes come and
go. Standard library only: a simulator runs beside `make run` without Django.
"""

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self
from urllib.parse import parse_qs, urlsplit

logger = logging.getLogger(__name__)

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
# Larger bodies are refused unread (the real services refuse far smaller ones).
MAX_BODY_BYTES = 1_000_000


@dataclass(frozen=True)
class Request:
    """One request; header names are lower-cased, query values are the first given."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes

    def json_object(self) -> dict[str, object] | None:
        """The body as a JSON object, or None when it is not one."""
        try:
            data = json.loads(self.body)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def form(self) -> dict[str, str]:
        """A urlencoded form body; a field given twice keeps its last value (as Django)."""
        parsed = parse_qs(self.body.decode("utf-8", errors="replace"), keep_blank_values=True)
        return {name: values[-1] for name, values in parsed.items()}

    def is_form(self) -> bool:
        return self.headers.get("content-type", "").startswith(FORM_CONTENT_TYPE)


@dataclass(frozen=True)
class Reply:
    """What to answer; `after` runs once the answer has been sent (e.g. a callback that
    must not overtake the response it follows)."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    after: Callable[[], None] | None = field(default=None, compare=False)


def json_reply(
    status: int, data: Mapping[str, object], *, after: Callable[[], None] | None = None
) -> Reply:
    return Reply(status=status, body=json.dumps(data).encode(), after=after)


def text_reply(status: int, text: str) -> Reply:
    return Reply(status=status, body=text.encode(), content_type="text/plain; charset=utf-8")


def html_reply(status: int, html: str) -> Reply:
    return Reply(status=status, body=html.encode(), content_type="text/html; charset=utf-8")


def redirect(location: str) -> Reply:
    """303 See Other: a form's post/redirect/get."""
    return Reply(status=303, content_type="text/plain", headers=(("Location", location),))


Handle = Callable[[Request], Reply]
TOO_LARGE = text_reply(413, "Request entity too large")
SERVER_ERROR = json_reply(500, {"errorCode": "500", "errorMessage": "Simulator error"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], handle: Handle, too_large: Reply, name: str
    ) -> None:
        self.handle = handle
        self.too_large = too_large
        self.name = name
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
        logger.debug("%s %s " + format, self.server.name, self.address_string(), *args)

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._write(self.server.too_large)
            return
        request = Request(
            method=self.command,
            path=parts.path,
            query={name: values[0] for name, values in parse_qs(parts.query).items()},
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        try:
            reply = self.server.handle(request)
        except Exception:  # the server must keep serving after any bug; logged in full
            logger.exception("%s failed on %s %s", self.server.name, request.method, request.path)
            reply = SERVER_ERROR
        self._write(reply)
        if reply.after is not None:
            try:
                reply.after()
            except Exception:  # as above: report it, keep serving
                logger.exception("%s follow-up failed on %s", self.server.name, request.path)

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


class LocalServer:
    """`handle` served on a real port: on a background thread for tests (`start`/`stop`),
    or in the foreground for demos (`serve_forever`). Port 0 picks a free port."""

    def __init__(
        self,
        handle: Handle,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "simulator",
        too_large: Reply = TOO_LARGE,
    ) -> None:
        self.handle = handle
        self.address = (host, port)
        self.name = name
        self.too_large = too_large
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def bind(self) -> Self:
        """Open the listening socket (so `base_url` is known) without serving yet."""
        if self._server is None:
            self._server = _Server(self.address, self.handle, self.too_large, self.name)
        return self

    def start(self) -> Self:
        """Serve on a background thread."""
        if self._thread is not None:
            raise RuntimeError(f"the {self.name} is already running")
        server = self._bound()
        # A short poll interval keeps stop() quick (shutdown waits for one poll).
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=self.name,
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (the command line's mode)."""
        try:
            self._bound().serve_forever()
        finally:
            self.stop()

    def stop(self) -> None:
        if self._server is not None:
            if self._thread is not None:
                self._server.shutdown()
                self._thread.join(timeout=5)
            self._server.server_close()
        self._server = None
        self._thread = None

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def base_url(self) -> str:
        """e.g. `http://127.0.0.1:41234`."""
        if self._server is None:
            raise RuntimeError(f"the {self.name} is not started")
        host, port = self._server.server_address[:2]
        shown = host.decode() if isinstance(host, bytes) else host
        return f"http://{shown}:{port}"

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _bound(self) -> _Server:
        server = self.bind()._server
        assert server is not None
        return server
