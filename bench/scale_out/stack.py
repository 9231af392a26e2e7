"""A county's whole stack on loopback, as two (or one) app nodes run it: gunicorn nodes,
Celery workers and one beat, sharing one PostgreSQL database and one Redis, behind nginx
(plain HTTP on loopback: TLS ends at nginx in production, and is not what is measured
here). Each process is started in a session of its own, so that one node (master and
workers) can be killed at once with `kill -9 -<pgid>`, and everything stopped at the end.

Used by bench/scale_out/check.py (scripts/check-two-nodes.sh) and bench/scale_out/run.py.
Figures read from /proc: CPU of a process tree (utime + stime), memory (PSS from
smaps_rollup) of the stack's processes.
"""

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

import httpx
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
TICKS = os.sysconf("SC_CLK_TCK")
NGINX_TEMPLATE = Path(__file__).with_name("nginx.conf.template")
SERVER = os.environ.get("SCALE_OUT_POSTGRES", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("SCALE_OUT_REDIS", "redis://127.0.0.1:6379")


def stack_env(
    *, database: str, cache_db: int, broker_db: int, media: Path, mpesa_token: str, at_token: str
) -> dict[str, str]:
    """Production's settings (DEBUG off), on loopback HTTP, for every process of the stack."""
    return {
        "DJANGO_SETTINGS_MODULE": "kaunti.settings",
        "DATABASE_URL": f"{SERVER}/{database}?conn_max_age=600",
        "REDIS_URL": f"{REDIS}/{cache_db}",
        "CELERY_BROKER_URL": f"{REDIS}/{broker_db}",
        "DEBUG": "0",
        "SECRET_KEY": "scale-out-only-secret-key-" + "b" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "MPESA_CALLBACK_TOKEN": mpesa_token,
        "AFRICASTALKING_CALLBACK_TOKEN": at_token,
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SMS_BACKEND": "console",
        "MEDIA_ROOT": str(media),
        "API_THROTTLE_USER": "1000000/minute",
        "GUNICORN_MAX_REQUESTS": "0",
    }


def recreate_database(name: str) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


# --- /proc ----------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return found
    for task in tasks:
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
    return found


def tree(pid: int) -> list[int]:
    """A process and all its descendants."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo += children(current)
    return pids


def cpu_seconds(pid: int, *, with_reaped_children: bool = False) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    used = int(fields[11]) + int(fields[12])
    if with_reaped_children:
        used += int(fields[13]) + int(fields[14])
    return used / TICKS


def tree_cpu(pid: int) -> float:
    """CPU of a process tree: the root (with the children it reaped) and the live rest."""
    return cpu_seconds(pid, with_reaped_children=True) + sum(
        cpu_seconds(child) for child in tree(pid)[1:]
    )


def pss_bytes(pids: Iterable[int]) -> tuple[int, int]:
    """(PSS, RSS) summed over the processes, from /proc/<pid>/smaps_rollup."""
    pss = rss = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        for line in text.splitlines():
            if line.startswith("Pss:"):
                pss += int(line.split()[1]) * 1024
            elif line.startswith("Rss:"):
                rss += int(line.split()[1]) * 1024
    return pss, rss


def postgres_pids(database: str) -> tuple[list[int], list[int]]:
    """(the server's own processes: postmaster and its helpers; the backends of `database`)."""
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        own = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE backend_type <> 'client backend'"
        ).fetchall()
        backends = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [database],
        ).fetchall()
        directory = conn.execute("SHOW data_directory").fetchone()
    pids = [int(row[0]) for row in own]
    if directory:
        with contextlib.suppress(FileNotFoundError, PermissionError, ValueError):
            pids.append(int((Path(directory[0]) / "postmaster.pid").read_text().split()[0]))
    return sorted(set(pids)), [int(row[0]) for row in backends]


def redis_pid() -> int | None:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "redis-server":
                    return int(entry.name)
            except (FileNotFoundError, ProcessLookupError):
                continue
    return None


# --- The stack ------------------------------------------------------------------------------


@dataclass
class Stack:
    env: Mapping[str, str]
    workdir: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    node_ports: dict[str, int] = field(default_factory=dict)

    def _spawn(self, name: str, argv: list[str], extra: Mapping[str, str] | None = None) -> None:
        log = self.workdir / f"{name}.log"
        with log.open("ab") as output:
            self.processes[name] = subprocess.Popen(  # noqa: S603  (our own programs)
                argv,
                cwd=ROOT,
                env={**os.environ, **self.env, **(extra or {})},
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killed as one
            )

    def start_node(self, name: str, port: int, *, workers: int = 2, threads: int = 1) -> None:
        """A gunicorn node with the repository's settings (gunicorn.conf.py)."""
        self._spawn(
            name,
            [str(ROOT / ".venv/bin/gunicorn"), "-c", "gunicorn.conf.py", "kaunti.wsgi"],
            {
                "GUNICORN_BIND": f"127.0.0.1:{port}",
                "GUNICORN_WORKERS": str(workers),
                "GUNICORN_THREADS": str(threads),
            },
        )
        self.node_ports[name] = port

    def start_worker(self, name: str, *, concurrency: int = 1) -> None:
        """A Celery worker for both queues (payments' drains and the SMS)."""
        self._spawn(
            name,
            [
                str(ROOT / ".venv/bin/celery"),
                "-A",
                "kaunti",
                "worker",
                "-n",
                f"{name}@%h",
                "-Q",
                "celery,notifications",
                "--concurrency",
                str(concurrency),
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
            ],
        )

    def start_beat(self) -> None:
        self._spawn(
            "beat",
            [
                str(ROOT / ".venv/bin/celery"),
                "-A",
                "kaunti",
                "beat",
                "--loglevel",
                "WARNING",
                "-s",
                str(self.workdir / "beat-schedule"),
                "--pidfile",
                "",
            ],
        )

    def start_nginx(self, port: int, nodes: Iterable[str]) -> None:
        """nginx with its own prefix, pid and logs in the work directory, balancing the nodes."""
        prefix = self.workdir / "nginx"
        (prefix / "logs").mkdir(parents=True, exist_ok=True)
        upstreams = "\n".join(
            f"        server 127.0.0.1:{self.node_ports[node]} max_fails=1 fail_timeout=10s;"
            for node in nodes
        )
        conf = Template(NGINX_TEMPLATE.read_text()).substitute(
            prefix=prefix, port=port, upstreams=upstreams
        )
        (prefix / "nginx.conf").write_text(conf)
        self._spawn(
            "nginx",
            ["nginx", "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
        )
        self.node_ports["nginx"] = port

    def wait_healthy(self, names: Iterable[str], timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        for name in names:
            port = self.node_ports[name]
            while True:
                process = self.processes[name]
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}; see its log")
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not answer /healthz on {port}")
                time.sleep(0.2)

    def kill_hard(self, name: str) -> int:
        """`kill -9` a process group (a gunicorn master and its workers; a Celery worker and
        its pool). Returns how many processes it held."""
        process = self.processes[name]
        held = len(tree(process.pid))
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return held

    def alive(self, name: str) -> bool:
        return self.processes[name].poll() is None

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def pids(self, *names: str) -> list[int]:
        found: list[int] = []
        for name in names or tuple(self.processes):
            if self.alive(name):
                found += tree(self.processes[name].pid)
        return found

    def cpu(self, *names: str) -> float:
        return sum(tree_cpu(self.processes[name].pid) for name in names)
