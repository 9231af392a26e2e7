"""The issued document as a PDF: one A4 page of text and a QR code to /verify/<code>.

The page (ReportLab, built-in Helvetica, the QR code, the stamp) is kaunti.core.pdf's,
shared with the receipts: no font files, a few kilobytes, prints anywhere. It is rendered from the registered document and the
application's answers on each download, never stored, so it always shows the current
state (a revoked permit prints as revoked).
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from kaunti.core.pdf import PdfPage
from kaunti.core.selectors import get_deployment_county_name
from kaunti.core.services.documents import verification_url
from kaunti.eservices.definitions.form import FieldType, parse_form
from kaunti.eservices.models import Application

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 20 * mm
QR_SIZE = 36 * mm
# Beside the QR code, the heading lines stop short of it; the details below run across.
BESIDE_QR = PAGE_WIDTH - 2 * MARGIN - QR_SIZE - 4 * mm
ACROSS = PAGE_WIDTH - 2 * MARGIN


@dataclass(frozen=True)
class PermitFacts:
    """Everything printed on the document, read once."""

    county_name: str
    title: str
    kind: str
    number: str
    holder: str
    issued_at: datetime
    valid_until: date | None
    details: list[tuple[str, str]]
    verification_code: str
    revoked_at: datetime | None


def _facts(application: Application, language: str) -> PermitFacts:
    document = application.issued_document
    if document is None:
        raise ValueError(f"{application.reference} has no issued document")
    fields = {field.name: field for field in parse_form(application.version.form)}
    details: list[tuple[str, str]] = []
    for name in application.version.document_fields:
        field = fields.get(name)
        value = str(application.answers.get(name, ""))
        if field is None or not value:
            continue
        if field.type == FieldType.CHOICE:
            value = field.choice_label(value, language)
        elif field.type == FieldType.WARD and application.ward is not None:
            value = application.ward.name
        details.append((field.label(language), value))
    # What the service's named checks reported at issue (e.g. the parcel's owners).
    details.extend((str(label), str(value)) for label, value in application.check_facts.items())
    return PermitFacts(
        county_name=get_deployment_county_name(),
        title=application.service.name(language),
        kind=application.version.get_document_kind_display(),
        number=document.number,
        holder=document.holder_name,
        issued_at=timezone.localtime(document.issued_at),
        valid_until=document.valid_until,
        details=details,
        verification_code=document.verification_code,
        revoked_at=document.revoked_at,
    )


def render_document_pdf(application: Application, *, language: str) -> bytes:
    """The PDF of an issued application's document, labelled in `language`."""
    facts = _facts(application, language)
    page = PdfPage(
        A4,
        margin=MARGIN,
        qr_size=QR_SIZE,
        title=f"{facts.title} {facts.number}",
        author=facts.county_name,
        compress=True,
    )
    page.draw_qr(facts.verification_code, scale=6)
    text_width = BESIDE_QR

    def line(value: str, *, size: float = 11, bold: bool = False, gap: float = 4) -> None:
        page.text(value, width=text_width, size=size, bold=bold, gap=gap, leading=2)

    line(_("County Government of %(county)s") % {"county": facts.county_name}, size=13, bold=True)
    line(str(facts.kind).upper(), size=10)
    line(facts.title, size=17, bold=True, gap=10)
    line(_("Number: %(number)s") % {"number": facts.number}, bold=True)
    line(_("Issued to: %(holder)s") % {"holder": facts.holder}, bold=True, gap=8)
    text_width = ACROSS
    for label, value in facts.details:
        line(f"{label}: {value}")
    page.y -= 6
    line(_("Issued on %(day)s") % {"day": facts.issued_at.strftime("%d/%m/%Y")})
    if facts.valid_until is not None:
        line(_("Valid until %(day)s") % {"day": facts.valid_until.strftime("%d/%m/%Y")}, bold=True)
    else:
        line(_("Does not expire"))
    page.rule(above=10, below=4)
    line(
        _("Check this document at %(url)s or scan the code.")
        % {"url": verification_url(facts.verification_code)},
        size=9,
    )
    line(_("Verification code: %(code)s") % {"code": facts.verification_code}, size=9)

    if facts.revoked_at is not None:
        page.stamp(_("REVOKED"), size=72)

    return page.finish()
