"""Production serving: `gunicorn -c gunicorn.conf.py kaunti.wsgi`."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
timeout = 30
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, in case of slow leaks (0: never, as the benchmarks run).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
access_log_format = '{"remote":"%(h)s","request":"%(r)s","status":%(s)s,"bytes":%(B)s,"ms":%(M)s,"request_id":"%({x-request-id}o)s"}'
errorlog = "-"

# Metrics (ADR 21): every worker keeps its counters in files here, and /metrics, answered
# by any one worker, adds up the node's (the Celery worker's too: it uses the same place).
# Set before the app, and so prometheus_client, is imported.
from kaunti.core.metrics.processes import mark_process_dead, use_multiprocess_dir  # noqa: E402

use_multiprocess_dir()


def child_exit(server, worker):
    mark_process_dead(worker.pid)
