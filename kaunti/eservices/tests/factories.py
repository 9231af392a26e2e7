"""Factories for e-services: an application as the citizen's pages make one, through
`create_draft`, `update_draft` and `attach_document`, so its version, reference, audit
trail and stored files are the real ones."""

from typing import Any

import factory

from kaunti.eservices.models import Application
from kaunti.eservices.services.applications import attach_document, create_draft, update_draft


class DraftFactory(factory.Factory[Application]):
    """A draft of `service` by `applicant`, with `answers` saved and `documents`
    ({kind: upload}) attached when given. Pass both `applicant` and `service`."""

    class Meta:
        model = Application

    renewal_of = None
    answers = factory.LazyFunction(dict)
    documents = factory.LazyFunction(dict)

    @classmethod
    def _create(cls, model_class: type[Application], *args: Any, **kwargs: Any) -> Application:
        applicant = kwargs["applicant"]
        application = create_draft(
            applicant=applicant, service=kwargs["service"], renewal_of=kwargs["renewal_of"]
        )
        if kwargs["answers"]:
            update_draft(application=application, actor=applicant, answers=kwargs["answers"])
        for kind, upload in kwargs["documents"].items():
            attach_document(application=application, actor=applicant, kind=kind, upload=upload)
        application.refresh_from_db()
        return application
