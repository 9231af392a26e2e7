"""Reads of the e-services app, each scoped to the person asking.

Citizens see their own applications and complaints; staff see those of the departments
where they hold a role granting the action (and those departments' directorates). A
citizen's lookup outside their own returns None (the page answers 404, so nobody learns
which references exist); a staff lookup outside their departments raises
`PermissionDenied`.

`operations` is the exception: counts of work past its SLA for /metrics (ADR 21), which
names no one and is read by the operators' Prometheus.
"""
