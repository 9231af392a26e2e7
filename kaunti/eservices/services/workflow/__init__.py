"""Staff work on an application: the steps of its workflow, their SLAs, and the decision.

A step opens when every step it waits for is done, and its SLA clock starts then
(County Licensing (Uniform Procedures) Act 2024, s. 13: period of determination). A
bundled permit's inspections are separate steps that approval waits for: bundling never
skips an inspection. With separation of duties on (the default), whoever inspected an
application may not approve it, and the other way round.

The pages, the API and settlement act through this package (`workflow.approve_step`,
`start_review`, ...); other code imports from the module that holds the function.
"""

from kaunti.eservices.services.workflow.actions import (
    approve_step,
    reassign_step,
    reject_application,
    return_for_changes,
)
from kaunti.eservices.services.workflow.inspections import record_inspection_result
from kaunti.eservices.services.workflow.steps import restart_open_steps, start_review

__all__ = [
    "approve_step",
    "reassign_step",
    "record_inspection_result",
    "reject_application",
    "restart_open_steps",
    "return_for_changes",
    "start_review",
]
