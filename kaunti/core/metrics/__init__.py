"""Prometheus metrics at /metrics (ADR 21), one module per subject:

`instruments` the counters and histograms each process updates (requests, database time,
Celery tasks); `processes` where several processes of a node keep them (prometheus_client's
multiprocess mode) and the clean-up when one ends; `middleware` the request timing;
`tasks` the Celery signal handlers (task outcomes, and the request id carried into tasks);
`figures` the registry apps add their scrape-time figures to; `collectors` what a scrape
reads (figures, queue lengths); `exposition` the registry a scrape renders.
"""
