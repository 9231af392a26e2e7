"""A citizen's side of an application: draft, answers, documents, submission, resubmission.

The pages and the API act on an application through this package
(`application_services.create_draft`, ...); other code imports from the module that holds
the step.
"""

from kaunti.eservices.services.applications.documents import attach_document
from kaunti.eservices.services.applications.drafts import create_draft, update_draft
from kaunti.eservices.services.applications.starting import Started, start_application
from kaunti.eservices.services.applications.submission import (
    resubmit_application,
    submit_application,
)

__all__ = [
    "Started",
    "attach_document",
    "create_draft",
    "resubmit_application",
    "start_application",
    "submit_application",
    "update_draft",
]
