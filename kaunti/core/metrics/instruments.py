"""The counters and histograms each process updates. Django-free, so that a process
imports them before Django is set up (prometheus_client picks its multiprocess storage
when it is first imported, from `PROMETHEUS_MULTIPROC_DIR`)."""

from prometheus_client import Counter, Histogram, disable_created_metrics

# No `_created` series: multiprocess mode has none, so one process alone would differ.
disable_created_metrics()

# Seconds: a page answers in tens of milliseconds; a report or a PDF in seconds.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
TASK_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 1800.0)

HTTP_REQUESTS = Counter(
    "kaunti_http_requests",
    "HTTP requests answered, by route name, method and status code.",
    ["view", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "kaunti_http_request_duration_seconds",
    "Time from the request reaching Django's middleware to its response, by route name.",
    ["view", "method"],
    buckets=REQUEST_BUCKETS,
)
HTTP_DB_TIME = Histogram(
    "kaunti_http_request_db_seconds",
    "Time one request spent waiting on the database (all its queries), by route name.",
    ["view"],
    buckets=REQUEST_BUCKETS,
)
HTTP_DB_QUERIES = Counter(
    "kaunti_http_db_queries",
    "Database queries made while answering requests, by route name.",
    ["view"],
)
TASKS = Counter(
    "kaunti_celery_tasks",
    "Celery tasks finished, by task name and outcome (success, failure, retry).",
    ["task", "state"],
)
TASK_DURATION = Histogram(
    "kaunti_celery_task_duration_seconds",
    "Time a Celery task ran in the worker, by task name.",
    ["task"],
    buckets=TASK_BUCKETS,
)
