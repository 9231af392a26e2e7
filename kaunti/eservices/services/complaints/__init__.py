"""Complaints and suggestions: filing, routing, handling, escalation, rating, reopening.

A complaint goes to the department that owns its category, with that category's SLA.
When the SLA passes unresolved it escalates to a supervisor of that department. The
citizen rates the answer and may reopen it within 30 days.

The pages and the API act on a complaint through this package (`services.file_complaint`,
`services.resolve_complaint`, ...); other code imports from the module that holds the step.
"""

from kaunti.eservices.services.complaints.filing import file_complaint
from kaunti.eservices.services.complaints.handling import (
    assign_complaint,
    rate_complaint_resolution,
    reopen_complaint,
    resolve_complaint,
    start_handling_complaint,
)

__all__ = [
    "assign_complaint",
    "file_complaint",
    "rate_complaint_resolution",
    "reopen_complaint",
    "resolve_complaint",
    "start_handling_complaint",
]
