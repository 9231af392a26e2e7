"""Reads of applications: a citizen's own, a department's work queue, documents, fees.

The pages and the API read applications through this package
(`application_selectors.list_work_queue`, ...); other code imports from the module that
holds the read.
"""

from kaunti.eservices.selectors.applications.citizen import (
    get_citizen_application,
    list_application_documents,
    list_application_timeline,
    list_citizen_applications,
)
from kaunti.eservices.selectors.applications.fees import get_billed_fees, preview_fees
from kaunti.eservices.selectors.applications.files import (
    open_application_document,
    render_issued_document,
)
from kaunti.eservices.selectors.applications.renewals import get_renewable_application
from kaunti.eservices.selectors.applications.requirements import required_documents
from kaunti.eservices.selectors.applications.staff import (
    access_application_for_staff,
    access_step_for_staff,
    get_step_for_staff,
    list_department_applications,
)
from kaunti.eservices.selectors.applications.work_queue import (
    is_step_overdue,
    list_overdue_steps,
    list_unassignable_steps,
    list_work_queue,
    may_act_on_step,
    unassignable_step_ids,
)

__all__ = [
    "access_application_for_staff",
    "access_step_for_staff",
    "get_billed_fees",
    "get_citizen_application",
    "get_renewable_application",
    "get_step_for_staff",
    "is_step_overdue",
    "list_application_documents",
    "list_application_timeline",
    "list_citizen_applications",
    "list_department_applications",
    "list_overdue_steps",
    "list_unassignable_steps",
    "list_work_queue",
    "may_act_on_step",
    "open_application_document",
    "preview_fees",
    "render_issued_document",
    "required_documents",
    "unassignable_step_ids",
]
