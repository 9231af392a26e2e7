"""An application's answers and documents as a person reads them: names, not codes.

The stored answers keep codes (a ward's IEBC code, a choice's value, a document's kind)
because routing, fees and checks need them; every page shows their names instead.
"""

from django.utils.translation import gettext as _

from kaunti.core.selectors import list_wards
from kaunti.eservices.definitions.documents import parse_documents
from kaunti.eservices.definitions.form import FieldSpec, FieldType, parse_form
from kaunti.eservices.models import Application, ApplicationDocument

INSPECTION_PHOTO_KIND = "inspection_photo"  # as services.workflow.inspections stores it


def _display(spec: FieldSpec, value: str, language: str, wards: dict[str, str]) -> str:
    if spec.type == FieldType.WARD:
        return wards.get(value, value)
    return spec.choice_label(value, language)


def list_answers_for_display(
    *, application: Application, language: str
) -> list[tuple[str, str, str]]:
    """(field name, question, answer) for every question but uploads, in form order; a
    ward by its name and a choice by its label, in `language`."""
    wards = dict(list_wards().values_list("code", "name"))
    return [
        (
            spec.name,
            spec.label(language),
            _display(spec, str(application.answers.get(spec.name, "")), language, wards),
        )
        for spec in parse_form(application.version.form)
        if spec.type != FieldType.FILE
    ]


def document_labels(*, application: Application, language: str) -> dict[str, str]:
    """Each document kind the application's version asks for, by its name in `language`."""
    labels = {
        spec.document: spec.label(language)
        for spec in parse_form(application.version.form)
        if spec.type == FieldType.FILE
    }
    labels.update(
        {spec.kind: spec.label(language) for spec in parse_documents(application.version.documents)}
    )
    labels[INSPECTION_PHOTO_KIND] = _("Inspection photo")
    return labels


def label_documents(
    documents: list[ApplicationDocument], *, application: Application, language: str
) -> list[tuple[ApplicationDocument, str]]:
    """Documents with the name of their kind (the kind itself if the version no longer
    names it)."""
    labels = document_labels(application=application, language=language)
    return [(document, labels.get(document.kind, document.kind)) for document in documents]
