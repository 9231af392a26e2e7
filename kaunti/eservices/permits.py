"""The issued document as a PDF: one A4 page of text and a QR code to /verify/<code>.

Drawn with ReportLab's canvas and built-in Helvetica, like the receipt: no font files,
a few kilobytes, prints anywhere. It is rendered from the registered document and the
application's answers on each download, never stored, so it always shows the current
state (a revoked permit prints as revoked).
"""

import io
from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfgen.canvas import Canvas

from kaunti.core.documents import qr_png, verification_url
from kaunti.core.selectors import get_deployment_county_name
from kaunti.eservices.definitions.form import FieldType, parse_form
from kaunti.eservices.models import Application

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 20 * mm
QR_SIZE = 36 * mm
FONT, BOLD = "Helvetica", "Helvetica-Bold"


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
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"{facts.title} {facts.number}")
    canvas.setAuthor(facts.county_name)

    qr = ImageReader(io.BytesIO(qr_png(facts.verification_code, scale=6)))
    canvas.drawImage(
        qr, PAGE_WIDTH - MARGIN - QR_SIZE, PAGE_HEIGHT - MARGIN - QR_SIZE, QR_SIZE, QR_SIZE
    )
    y = PAGE_HEIGHT - MARGIN
    text_width = PAGE_WIDTH - 2 * MARGIN - QR_SIZE - 4 * mm

    def line(value: str, *, size: float = 11, bold: bool = False, gap: float = 4) -> None:
        nonlocal y
        font = BOLD if bold else FONT
        canvas.setFont(font, size)
        for part in simpleSplit(value, font, size, text_width) or [""]:
            y -= size + 2
            canvas.drawString(MARGIN, y, part)
        y -= gap

    line(_("County Government of %(county)s") % {"county": facts.county_name}, size=13, bold=True)
    line(str(facts.kind).upper(), size=10)
    line(facts.title, size=17, bold=True, gap=10)
    line(_("Number: %(number)s") % {"number": facts.number}, bold=True)
    line(_("Issued to: %(holder)s") % {"holder": facts.holder}, bold=True, gap=8)
    text_width = PAGE_WIDTH - 2 * MARGIN
    for label, value in facts.details:
        line(f"{label}: {value}")
    y -= 6
    line(_("Issued on %(day)s") % {"day": facts.issued_at.strftime("%d/%m/%Y")})
    if facts.valid_until is not None:
        line(_("Valid until %(day)s") % {"day": facts.valid_until.strftime("%d/%m/%Y")}, bold=True)
    else:
        line(_("Does not expire"))
    y -= 10
    canvas.setStrokeColor(colors.grey)
    canvas.line(MARGIN, y, PAGE_WIDTH - MARGIN, y)
    y -= 4
    line(
        _("Check this document at %(url)s or scan the code.")
        % {"url": verification_url(facts.verification_code)},
        size=9,
    )
    line(_("Verification code: %(code)s") % {"code": facts.verification_code}, size=9)

    if facts.revoked_at is not None:
        canvas.saveState()
        canvas.setFillColor(colors.Color(0.8, 0, 0, alpha=0.35))
        canvas.setFont(BOLD, 72)
        canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
        canvas.rotate(35)
        canvas.drawCentredString(0, 0, _("REVOKED"))
        canvas.restoreState()

    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
