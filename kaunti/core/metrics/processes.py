"""Where a node's processes keep their metrics: gunicorn's workers and Celery's each write
their own files in `PROMETHEUS_MULTIPROC_DIR` (prometheus_client's multiprocess mode), and
/metrics, served by any one of them, adds them all up. Without the variable each process
keeps its own (development, tests).

Django-free: gunicorn.conf.py and the Celery worker call these before Django starts.
"""

import os
import re
import tempfile
from pathlib import Path

ENV_VAR = "PROMETHEUS_MULTIPROC_DIR"
# The same place for gunicorn and the worker of one checkout, so a node needs no setting.
DEFAULT_DIR = Path(__file__).resolve().parents[3] / "var" / "prometheus"

_FILE_PID = re.compile(r"_([0-9]+)\.db$")


def multiprocess_dir() -> str:
    """The directory in use, or "" in single-process mode."""
    return os.environ.get(ENV_VAR, "") or os.environ.get(ENV_VAR.lower(), "")


def fallback_dir() -> Path:
    """Where the metrics go when the checkout is read-only (an installed image): the same
    for every process of this user on the node."""
    return Path(tempfile.gettempdir()) / f"kaunti-prometheus-{os.getuid()}"


def use_multiprocess_dir(default: Path = DEFAULT_DIR) -> str:
    """Set `PROMETHEUS_MULTIPROC_DIR` (to `default` unless already set), create it, and
    remove the files of processes that are gone (a previous run's). Call before
    prometheus_client is imported. A directory set by the operator must be usable; the
    default falls back to one under the system's temporary directory."""
    path = os.environ.get(ENV_VAR, "")
    if not path:
        for candidate in (default, fallback_dir()):
            try:
                candidate.mkdir(parents=True, exist_ok=True)
            except OSError:
                continue
            if os.access(candidate, os.W_OK):
                path = str(candidate)
                break
        else:
            return ""  # nowhere to write: each process keeps its own metrics
        os.environ[ENV_VAR] = path
    Path(path).mkdir(parents=True, exist_ok=True)
    remove_files_of_dead_processes(path)
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def remove_files_of_dead_processes(path: str) -> list[str]:
    """Remove the metric files of processes no longer running: a restart starts the node's
    counters afresh (Prometheus reads a drop as a counter reset). Files of live processes
    (the other service of the node, started earlier) stay."""
    removed = []
    for file in Path(path).glob("*.db"):
        match = _FILE_PID.search(file.name)
        if match and not _alive(int(match.group(1))):
            file.unlink(missing_ok=True)
            removed.append(file.name)
    return removed


def mark_process_dead(pid: int) -> None:
    """A worker process ended: drop its live gauges (its counters stay in the sum)."""
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
