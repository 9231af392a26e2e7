"""Start an application in one call: the draft, its answers, its documents and, when
asked, its submission (the API's one-request path for clients that have everything)."""

from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from kaunti.accounts.models import User
from kaunti.eservices.models import Application, Service
from kaunti.eservices.services.applications.documents import attach_document
from kaunti.eservices.services.applications.drafts import create_draft, update_draft
from kaunti.eservices.services.applications.submission import submit_application
from kaunti.eservices.uploads import Upload


@dataclass(frozen=True)
class Started:
    """The application as the call left it, and what to fix per field or document (empty
    when everything was taken and, if asked, submitted)."""

    application: Application
    errors: dict[str, list[str]]


def _messages(exc: ValidationError, key: str) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {field: list(messages) for field, messages in exc.message_dict.items()}
    return {key: list(exc.messages)}


def start_application(
    *,
    applicant: User,
    service: Service,
    renewal_of: Application | None = None,
    answers: Mapping[str, str] | None = None,
    documents: Mapping[str, Upload] | None = None,
    submit: bool = False,
) -> Started:
    """Create the draft, save the answers, attach the documents and submit, each step in
    its own transaction as the separate calls would be.

    Nothing typed or uploaded is lost to a later refusal: a wrong answer or a refused
    document leaves the draft saved with everything else, and the submission is then not
    tried; a submission that is refused leaves the complete draft. A refusal of the draft
    itself (a service not taking applications) raises, and nothing is created."""
    application = create_draft(applicant=applicant, service=service, renewal_of=renewal_of)
    errors: dict[str, list[str]] = {}
    if answers:
        update = update_draft(application=application, actor=applicant, answers=answers)
        application = update.application
        errors.update(update.errors)
    for kind, upload in (documents or {}).items():
        try:
            attach_document(application=application, actor=applicant, kind=kind, upload=upload)
        except ValidationError as exc:
            errors.update(_messages(exc, kind))
    if submit and not errors:
        try:
            application = submit_application(application=application, actor=applicant)
        except ValidationError as exc:
            errors.update(_messages(exc, "submit"))
    return Started(application, errors)
