"""The one-page PDFs the county hands out (receipts, permits): the page they share.

Drawn with ReportLab's canvas and its built-in Helvetica (no font files, no images but the
QR code), so a document is a few kilobytes and prints on any office printer. Each page
has the QR code to /verify/<code> in its top right corner, text written downwards from
the top left, grey rules, and, when the document no longer stands, a large diagonal stamp
across it. What a document says is its own module's (payments' receipts, e-services'
permits); this is only the paper.
"""

import io

from reportlab.lib import colors
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfgen.canvas import Canvas

from kaunti.core.services.documents import qr_png

FONT, BOLD = "Helvetica", "Helvetica-Bold"
STAMP_COLOUR = colors.Color(0.8, 0, 0, alpha=0.35)


class PdfPage:
    """One page, written top-down: `y` is the cursor, and each `text` moves it down."""

    def __init__(
        self,
        pagesize: tuple[float, float],
        *,
        margin: float,
        qr_size: float,
        title: str,
        author: str,
        subject: str = "",
        compress: bool = False,
    ) -> None:
        self.width, self.height = pagesize
        self.margin, self.qr_size = margin, qr_size
        self.y = self.height - margin
        self._buffer = io.BytesIO()
        self.canvas = Canvas(
            self._buffer, pagesize=pagesize, pageCompression=1 if compress else None
        )
        self.canvas.setTitle(title)
        self.canvas.setAuthor(author)
        if subject:
            self.canvas.setSubject(subject)

    def draw_qr(self, code: str, *, scale: int | None = None) -> None:
        """The QR code of the document's verification code, in the top right corner."""
        png = qr_png(code) if scale is None else qr_png(code, scale=scale)
        left = self.width - self.margin - self.qr_size
        bottom = self.height - self.margin - self.qr_size
        self.canvas.drawImage(
            ImageReader(io.BytesIO(png)), left, bottom, self.qr_size, self.qr_size
        )

    def text(
        self,
        value: str,
        *,
        width: float,
        size: float,
        bold: bool = False,
        gap: float = 4,
        leading: float = 1,
    ) -> None:
        """`value` from the left margin, wrapped at `width`; then `gap` points of space."""
        font = BOLD if bold else FONT
        self.canvas.setFont(font, size)
        for part in simpleSplit(value, font, size, width) or [""]:
            self.y -= size + leading
            self.canvas.drawString(self.margin, self.y, part)
        self.y -= gap

    def rule(self, *, above: float, below: float, line_width: float | None = None) -> None:
        """A grey line across the page, `above` points below the cursor and `below` above
        where the cursor ends."""
        self.y -= above
        self.canvas.setStrokeColor(colors.grey)
        if line_width is not None:
            self.canvas.setLineWidth(line_width)
        self.canvas.line(self.margin, self.y, self.width - self.margin, self.y)
        self.y -= below

    def stamp(self, word: str, *, size: float) -> None:
        """`word` in large translucent red across the page: the document no longer stands."""
        self.canvas.saveState()
        self.canvas.setFillColor(STAMP_COLOUR)
        self.canvas.setFont(BOLD, size)
        self.canvas.translate(self.width / 2, self.height / 2)
        self.canvas.rotate(35)
        self.canvas.drawCentredString(0, 0, word)
        self.canvas.restoreState()

    def finish(self) -> bytes:
        """The finished PDF."""
        self.canvas.showPage()
        self.canvas.save()
        return self._buffer.getvalue()
