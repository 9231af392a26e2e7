"""What an application must hold before it is submitted: answers a ward question accepts,
and the documents to upload (fewer on a renewal, unless the answers they prove changed)."""

from kaunti.core.selectors import list_wards
from kaunti.eservices.definitions.documents import parse_documents
from kaunti.eservices.definitions.form import FieldType, parse_form
from kaunti.eservices.definitions.language import current_language
from kaunti.eservices.models import Application


def ward_codes() -> frozenset[str]:
    """Codes of the deployment county's wards: the answers a ward question accepts."""
    return frozenset(list_wards().values_list("code", flat=True))


def changed_since_renewed(application: Application) -> frozenset[str] | None:
    """For a renewal, the answers that differ from the renewed application's (None for an
    application that renews nothing)."""
    previous = application.renewal_of
    if previous is None:
        return None
    return frozenset(
        name
        for name, value in application.answers.items()
        if name != "application_type" and str(previous.answers.get(name, "")) != str(value)
    )


def required_documents(application: Application) -> dict[str, str]:
    """The documents `application` needs before it is submitted, kind to label (in the
    active language). A renewal follows each document's `required_on_renewal` rule, so the
    web and USSD renewals ask for the same things."""
    language = current_language()
    changed = changed_since_renewed(application)
    specs = {spec.kind: spec for spec in parse_documents(application.version.documents)}
    needed = {
        kind: spec.label(language)
        for kind, spec in specs.items()
        if spec.is_required(changed_answers=changed)
    }
    for field in parse_form(application.version.form):
        if field.type != FieldType.FILE or not field.required or field.document in needed:
            continue
        spec = specs.get(field.document)
        exempt = (
            spec is not None
            and changed is not None
            and not spec.required_on_renewal
            and not changed & set(spec.required_again_if_changed)
        )
        if not exempt:
            needed[field.document] = field.label(language)
    return needed
