"""What the HTTP benchmarks share: gunicorn and a Celery worker started with the
benchmark's settings, stopped as a group, and the CPU each used, read from /proc (steadier
than rates on a shared machine)."""

import asyncio
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_gunicorn(
    *, env: Mapping[str, str], port: int, workers: int, threads: int, log: Path
) -> subprocess.Popen[bytes]:
    """Kaunti under gunicorn (`gunicorn.conf.py`), once it answers `/healthz`. Workers are
    not recycled during a run: a worker leaving closes its keep-alive connections under
    the client, which would measure the recycling."""
    environment = {
        **os.environ,
        **env,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": str(workers),
        "GUNICORN_THREADS": str(threads),
        "GUNICORN_MAX_REQUESTS": "0",
    }
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as output:
        server = subprocess.Popen(  # noqa: S603  (our own gunicorn, fixed arguments)
            [str(ROOT / ".venv/bin/gunicorn"), "-c", "gunicorn.conf.py", "kaunti.wsgi"],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}; see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop(server)
    raise RuntimeError(f"gunicorn did not answer /healthz within 60 s; see {log}")


def start_celery_worker(
    *, env: Mapping[str, str], concurrency: int, log: Path
) -> subprocess.Popen[bytes]:
    """A Celery worker for the default queue, where paybill confirmations are drained. The
    SMS go to the `notifications` queue, which nothing consumes during a run."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as output:
        return subprocess.Popen(  # noqa: S603  (our own worker, fixed arguments)
            [
                str(ROOT / ".venv/bin/celery"),
                "-A",
                "kaunti",
                "worker",
                "-Q",
                "celery",
                "--concurrency",
                str(concurrency),
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server started in its own session, with everything it started."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def cpu_seconds(pid: int, *, with_reaped_children: bool = False) -> float:
    """User + system CPU of a process from /proc (and of its exited children, if asked)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    used = int(fields[11]) + int(fields[12])  # utime, stime
    if with_reaped_children:
        used += int(fields[13]) + int(fields[14])  # cutime, cstime
    return used / TICKS


def tree_cpu(process: subprocess.Popen[bytes]) -> float:
    """A server's CPU: the master, its live workers, and the workers already gone."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    return cpu_seconds(process.pid, with_reaped_children=True) + sum(
        cpu_seconds(int(child)) for child in children
    )


def database_cpu(*, server: str, database: str) -> float:
    """The PostgreSQL backends serving one database (not the other databases')."""
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        pids = [
            row[0]
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", [database]
            ).fetchall()
        ]
    return sum(cpu_seconds(pid) for pid in pids)


# --- A lean HTTP client ---------------------------------------------------------------------


class Connection:
    """One HTTP/1.1 connection (kept alive when the server allows) for a load client.

    Asyncio streams and no HTTP library, so that the client's own CPU, on the same 2 cores
    as the server, stays small: httpx costs about 2 to 3 ms per request here, this about
    0.2. A server that answers `Connection: close` (gunicorn's sync workers) gets a new
    connection for the next request.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes = b"",
        content_type: str = "application/json",
        token: str | None = None,
    ) -> tuple[int, bytes]:
        """Send one request and return the answer's status and body."""
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if token:
            head += f"Authorization: Token {token}\r\n"
        if body or method in ("POST", "PUT", "PATCH"):
            head += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        return await self.post(head.encode() + b"\r\n" + body)

    async def post(self, request: bytes) -> tuple[int, bytes]:
        """Send a prepared request and read its answer; an idle keep-alive connection that
        the server has closed meanwhile is reopened once (nothing was sent on it)."""
        reused = self.writer is not None
        try:
            return await self._exchange(request)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            self.close()
            if not reused or (isinstance(exc, asyncio.IncompleteReadError) and exc.partial):
                raise
        return await self._exchange(request)

    async def _exchange(self, request: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in header_lines if line)
        }
        body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            self.close()
        return int(status_line.split()[1]), body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def http_post(path: str, body: bytes) -> bytes:
    """A prepared JSON POST, for `Connection.post`."""
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def multipart(
    fields: Mapping[str, str], file_field: str, filename: str, content: bytes, content_type: str
) -> tuple[bytes, str]:
    """A multipart/form-data body with text fields and one file, and its content type."""
    return multipart_files(fields, {file_field: (filename, content, content_type)})


def multipart_files(
    fields: Mapping[str, str], files: Mapping[str, tuple[str, bytes, str]]
) -> tuple[bytes, str]:
    """A multipart/form-data body with text fields and files (field name: filename,
    content, content type), and its content type."""
    boundary = "kaunti-bench-" + os.urandom(8).hex()
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    for name, (filename, content, content_type) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
            + content
            + b"\r\n"
        )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), (
        f"multipart/form-data; boundary={boundary}"
    )
