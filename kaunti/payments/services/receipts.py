"""The receipt as a PDF: one A5 page of text and a QR code pointing at /verify/<code>.

The page (ReportLab, built-in Helvetica, the QR code, the stamp) is kaunti.core.pdf's,
shared with the permits. The figures are read from the ledger-backed rows, never
recomputed from what a form said.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A5
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit

from kaunti.core.money import ZERO, format_amount, format_kes
from kaunti.core.pdf import BOLD, FONT, PdfPage
from kaunti.core.selectors import get_deployment_county_name
from kaunti.core.services.documents import verification_url
from kaunti.payments.models import Allocation, BillLine, Channel, PayerCredit, Receipt

PAGE_WIDTH, PAGE_HEIGHT = A5
MARGIN = 12 * mm
QR_SIZE = 28 * mm


@dataclass(frozen=True)
class ReceiptFacts:
    """Everything printed on a receipt, read once."""

    county_name: str
    number: str
    issued_at: datetime
    payer_name: str
    bill_number: str
    bill_description: str
    lines: list[BillLine]
    bill_total: Decimal
    amount: Decimal
    channel: str
    reference: str
    served_by: str
    credit_created: Decimal
    balance_after: Decimal | None
    verification_code: str
    cancelled_at: datetime | None
    cancellation_reason: str


def _reference(receipt: Receipt) -> str:
    payment = receipt.payment
    if payment.mpesa_receipt:
        return payment.mpesa_receipt
    if payment.channel in (Channel.BANK, Channel.CHEQUE):
        return str(payment.raw.get("reference", "")) or payment.external_ref
    return "-"


def _facts(receipt: Receipt) -> ReceiptFacts:
    payment = receipt.payment
    bill = payment.bill
    balance_after: Decimal | None = None
    lines: list[BillLine] = []
    if bill is not None:
        lines = list(bill.lines.select_related("stream"))
        # What was still owed right after this payment (later payments not counted).
        paid_by_then = (
            Allocation.objects.filter(bill=bill, created_at__lte=receipt.issued_at).aggregate(
                total=Sum("amount")
            )["total"]
            or ZERO
        )
        balance_after = bill.total - paid_by_then
    credit_created = (
        PayerCredit.objects.filter(payment=payment, amount__gt=0).aggregate(total=Sum("amount"))[
            "total"
        ]
        or ZERO
    )
    cancellation = getattr(receipt, "cancellation", None)
    return ReceiptFacts(
        county_name=get_deployment_county_name(),
        number=receipt.number,
        issued_at=timezone.localtime(receipt.issued_at),
        payer_name=(bill.payer_name if bill else payment.payer_name) or "-",
        bill_number=bill.number if bill else (payment.account_reference or "-"),
        bill_description=bill.localized_description if bill else _("Held in suspense for review"),
        lines=lines,
        bill_total=bill.total if bill else ZERO,
        amount=payment.amount,
        channel=str(payment.get_channel_display()),
        reference=_reference(receipt),
        served_by=(
            payment.received_by.full_name or payment.received_by.get_username()
            if payment.received_by
            else ""
        ),
        credit_created=credit_created,
        balance_after=balance_after,
        verification_code=receipt.verification_code,
        cancelled_at=timezone.localtime(cancellation.cancelled_at) if cancellation else None,
        cancellation_reason=cancellation.reason if cancellation else "",
    )


class _ReceiptPage(PdfPage):
    """The A5 page, with a receipt's labelled pairs and table rows."""

    def __init__(self, *, title: str, author: str) -> None:
        super().__init__(
            A5,
            margin=MARGIN,
            qr_size=QR_SIZE,
            title=title,
            author=author,
            subject=_("Official receipt"),
        )

    @property
    def right(self) -> float:
        """The right edge of the text: left of the QR code while beside it."""
        beside_qr = self.y > PAGE_HEIGHT - MARGIN - QR_SIZE - 12
        return PAGE_WIDTH - MARGIN - (QR_SIZE + 3 * mm if beside_qr else 0)

    def line(self, value: str, *, size: float = 9, bold: bool = False, gap: float = 4) -> None:
        self.text(value, width=self.right - MARGIN, size=size, bold=bold, gap=gap)

    def pair(self, label: str, value: str, *, bold: bool = False) -> None:
        self.canvas.setFont(FONT, 9)
        self.y -= 11
        self.canvas.drawString(MARGIN, self.y, label)
        self.canvas.setFont(BOLD if bold else FONT, 9)
        column = MARGIN + 32 * mm
        width = self.right - column
        parts = simpleSplit(value, BOLD if bold else FONT, 9, width) or [""]
        self.canvas.drawString(column, self.y, parts[0])
        for part in parts[1:]:
            self.y -= 11
            self.canvas.drawString(column, self.y, part)

    def amount_row(self, cells: tuple[str, str, str, str], *, bold: bool = False) -> None:
        font = BOLD if bold else FONT
        self.canvas.setFont(font, 8.5)
        self.y -= 11
        right = PAGE_WIDTH - MARGIN
        description = simpleSplit(cells[0], font, 8.5, 60 * mm) or [""]
        self.canvas.drawString(MARGIN, self.y, description[0])
        self.canvas.drawRightString(right - 50 * mm, self.y, cells[1])
        self.canvas.drawRightString(right - 25 * mm, self.y, cells[2])
        self.canvas.drawRightString(right, self.y, cells[3])
        for part in description[1:]:
            self.y -= 10
            self.canvas.drawString(MARGIN, self.y, part)

    def separator(self) -> None:
        self.rule(above=4, below=2, line_width=0.5)


def _quantity(value: Decimal) -> str:
    # A quantity, not money: "30" bags, "2.5" hectares, grouped like an amount.
    return format_amount(value).rstrip("0").rstrip(".")


def render_receipt_pdf(*, receipt: Receipt) -> bytes:
    """The receipt as an A5 PDF, with a QR code to its public verification page."""
    facts = _facts(receipt)
    page = _ReceiptPage(
        title=_("Receipt %(number)s") % {"number": facts.number},
        author=_("County Government of %(county)s") % {"county": facts.county_name},
    )
    page.draw_qr(facts.verification_code)
    page.line(
        _("County Government of %(county)s") % {"county": facts.county_name}, size=13, bold=True
    )
    page.line(_("Official receipt"), size=11, bold=True, gap=8)
    page.pair(_("Receipt number"), facts.number, bold=True)
    page.pair(_("Date"), facts.issued_at.strftime("%d/%m/%Y %H:%M"))
    page.pair(_("Received from"), facts.payer_name)
    page.pair(_("Bill number"), facts.bill_number)
    page.pair(_("For"), facts.bill_description)
    page.y -= 6
    page.separator()

    if facts.lines:
        page.amount_row((_("Item"), _("Quantity"), _("Unit price"), _("Amount (KES)")), bold=True)
        for line in facts.lines:
            page.amount_row(
                (
                    line.localized_description,
                    _quantity(line.quantity),
                    format_amount(line.unit_price),
                    format_amount(line.amount),
                )
            )
        page.amount_row((_("Bill total"), "", "", format_amount(facts.bill_total)), bold=True)
        page.separator()

    page.pair(_("Amount paid"), format_kes(facts.amount), bold=True)
    page.pair(_("Paid by"), facts.channel)
    page.pair(_("Reference"), facts.reference)
    if facts.credit_created > 0:
        page.pair(_("Credit kept for you"), format_kes(facts.credit_created))
    if facts.balance_after is not None:
        page.pair(_("Balance on the bill"), format_kes(facts.balance_after), bold=True)
    if facts.served_by:
        page.pair(_("Served by"), facts.served_by)
    page.y -= 10
    page.separator()
    page.line(
        _("Check this receipt at %(url)s or scan the code.")
        % {"url": verification_url(facts.verification_code)},
        size=8,
    )
    page.line(_("Verification code: %(code)s") % {"code": facts.verification_code}, size=8)

    if facts.cancelled_at is not None:
        page.y -= 6
        page.canvas.setFillColor(colors.red)
        page.line(
            _("Cancelled on %(day)s: %(reason)s")
            % {"day": facts.cancelled_at.strftime("%d/%m/%Y"), "reason": facts.cancellation_reason},
            size=9,
            bold=True,
        )
        page.stamp(_("CANCELLED"), size=54)

    return page.finish()
