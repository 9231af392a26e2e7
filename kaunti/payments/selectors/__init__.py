"""Reads of the payments app that are more than a one-line queryset, one module per subject:
`bills`, `receipts`, `tills`, `citizens`, and the revenue `reports`, `dashboard` and
statement `reconciliation`; `operations`, the callback and prompt backlogs /metrics reports
(ADR 21, unscoped: counts only, for the operators' Prometheus).

Every read a person reaches is scoped to them. Staff lists show the departments where
they hold a role granting the action (and those departments' directorates); a staff
lookup of one bill or receipt (`access_*`) returns None when there is none and raises
`PermissionDenied` when it belongs to a department they may not act in. Citizens see
only the bills raised in their name: anything else is None, so the view answers 404 and
nobody learns which numbers exist. A bill's viewers also include those the app that
raised it registered in `payments.bill_access` (land rates: the Revenue Directorate).
"""
