"""Renewing an issued permit or licence by its printed number, in one go.

For channels that cannot fill a form or upload a file (USSD): the renewal is created
from last year's answers and submitted at once, which raises its bill. It succeeds only
where the service lets a renewal go without new documents (`required_on_renewal` in the
catalogue data); otherwise the applicant is told to renew on the web.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kaunti.accounts.models import User
from kaunti.eservices.models import Application
from kaunti.eservices.references import (
    normalise_document_number,
    reference_from_document_number,
)
from kaunti.eservices.services.applications.drafts import create_draft
from kaunti.eservices.services.applications.submission import submit_application


def _own_issued_application(*, document_number: str, applicant: User) -> Application | None:
    """The applicant's application whose issued document has this number (the number
    carries the application's code, so this is one indexed lookup), else None."""
    reference = reference_from_document_number(document_number)
    if not reference:
        return None
    application = (
        Application.objects.select_for_update(of=("self",))
        .select_related("issued_document", "service__current_version", "version")
        .filter(reference=reference, applicant_id=applicant.pk)
        .first()
    )
    if (
        application is None
        or application.issued_document is None
        or application.issued_document.number != normalise_document_number(document_number)
    ):
        return None
    return application


@transaction.atomic
def renew_by_document_number(*, document_number: str, applicant: User) -> Application:
    """Create and submit the renewal of the applicant's own issued, renewable document
    with this number (any case, spaces ignored), pre-filled from its answers; the
    returned application has its `.bill` raised (None when renewal costs nothing).

    `ValidationError` (translated) when the number is unknown or not the applicant's
    (the same message: nobody learns whose numbers exist), when the document cannot be
    renewed or is already renewed for the coming period, or when the renewal needs
    something only the web can take (a document, a changed answer); nothing is kept then.
    """
    previous = _own_issued_application(document_number=document_number, applicant=applicant)
    if previous is None:
        raise ValidationError(
            _("We found no permit or licence of yours numbered %(number)s.")
            % {"number": normalise_document_number(document_number)[:40]}
        )
    draft = create_draft(applicant=applicant, service=previous.service, renewal_of=previous)
    try:
        return submit_application(application=draft, actor=applicant)
    except ValidationError as exc:
        details = (
            [message for found in exc.message_dict.values() for message in found]
            if hasattr(exc, "error_dict")
            else exc.messages
        )
        raise ValidationError(
            _("This renewal needs more than we can take here: %(details)s Please renew on the web.")
            % {"details": " ".join(details)}
        ) from exc
