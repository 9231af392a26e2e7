"""Fixtures for the Daraja tests: the simulator on a real port, a real client pointed at it,
and a small HTTP server standing in for our callback endpoints."""

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from kaunti.payments.mpesa.client import DarajaClient, DarajaConfig
from kaunti.payments.mpesa.protocol import SANDBOX_PASSKEY, SANDBOX_SHORTCODE
from kaunti.simulators.daraja import DarajaSimulator, SimulatorConfig

PHONE = "254708374149"
CONSUMER_KEY = "kaunti-consumer-key"
CONSUMER_SECRET = "kaunti-consumer-secret"


@dataclass(frozen=True)
class Received:
    path: str
    payload: Any
    body: bytes


class Receiver:
    """Our side of the callbacks: records every POST and answers as told per path."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._received: list[Received] = []
        self._answers: dict[str, tuple[int, object]] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = None
                status, answer = receiver._answer(self.path, Received(self.path, payload, body))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def answer(self, path: str, body: object, *, status: int = 200) -> None:
        with self._changed:
            self._answers[path] = (status, body)

    @property
    def received(self) -> list[Received]:
        with self._changed:
            return list(self._received)

    def wait_for(self, count: int, *, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._received) < count and time.monotonic() < deadline:
                self._changed.wait(deadline - time.monotonic())
            received = list(self._received)
        assert len(received) >= count, f"{len(received)} of {count} callbacks arrived"
        return received

    def _answer(self, path: str, received: Received) -> tuple[int, object]:
        with self._changed:
            self._received.append(received)
            self._changed.notify_all()
            return self._answers.get(path, (200, {"ResultCode": 0, "ResultDesc": "Success"}))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def start_simulator() -> Iterator[Callable[..., DarajaSimulator]]:
    """Start a simulator with config overrides; every one started is stopped afterwards."""
    started: list[DarajaSimulator] = []

    def start(**overrides: Any) -> DarajaSimulator:
        settings: dict[str, Any] = {
            "consumer_key": CONSUMER_KEY,
            "consumer_secret": CONSUMER_SECRET,
            "callback_timeout_seconds": 2.0,
        }
        settings.update(overrides)
        simulator = DarajaSimulator(SimulatorConfig(**settings)).start()
        started.append(simulator)
        return simulator

    yield start
    for simulator in started:
        simulator.stop()


@pytest.fixture
def simulator(start_simulator: Callable[..., DarajaSimulator]) -> DarajaSimulator:
    return start_simulator()


def make_client(simulator: DarajaSimulator, **overrides: Any) -> DarajaClient:
    """A real client for the simulator; `config_*` keys override the DarajaConfig."""
    config: dict[str, Any] = {
        "base_url": simulator.base_url,
        "consumer_key": CONSUMER_KEY,
        "consumer_secret": CONSUMER_SECRET,
        "shortcode": SANDBOX_SHORTCODE,
        "passkey": SANDBOX_PASSKEY,
        "callback_base_url": "https://kaunti.example",
        "c2b_register_version": "v1",
    }
    client_options: dict[str, Any] = {"timeout": 5.0}
    for name, value in overrides.items():
        if name.startswith("config_"):
            config[name.removeprefix("config_")] = value
        else:
            client_options[name] = value
    return DarajaClient(DarajaConfig(**config), **client_options)


@pytest.fixture
def daraja(simulator: DarajaSimulator) -> DarajaClient:
    return make_client(simulator)


def closed_port_url(path: str = "/") -> str:
    """A local URL nobody listens on: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
