"""Reading statement files: Safaricom's organisation statement for the paybill and the
bank's statement of the revenue account, both CSV as exported.

Every row is accounted for: a row that cannot be read becomes a `RowError` with its row
number and reason, rows that are not receipts (withdrawals, charges, failed
transactions) are counted, and the good rows become `ParsedLine`s, for `reconciliation`
to match against Kaunti's payments.
"""

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from kaunti.payments.models import StatementKind

MPESA_COLUMNS = (
    "Receipt No.",
    "Completion Time",
    "Initiation Time",
    "Details",
    "Transaction Status",
    "Paid In",
    "Withdrawn",
    "Balance",
    "Balance Confirmed",
    "Reason Type",
    "Other Party Info",
    "Linked Transaction ID",
    "A/C No.",
)
MPESA_REQUIRED = ("Receipt No.", "Completion Time", "Transaction Status", "Paid In", "A/C No.")
BANK_COLUMNS = ("Date", "Value Date", "Reference", "Description", "Debit", "Credit", "Balance")
BANK_REQUIRED = ("Date", "Reference", "Credit")

MAX_REFERENCE_LENGTH = 64
MAX_ACCOUNT_LENGTH = 64

DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%d-%m-%Y %H:%M:%S",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
)
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d-%b-%Y", "%d %b %Y", "%d-%b-%y")


@dataclass(frozen=True)
class RowError:
    """A row of the file that could not be read, and why (row 1 is the header)."""

    row: int
    reason: str


@dataclass(frozen=True)
class ParsedLine:
    row: int
    reference: str
    amount: Decimal
    occurred_on: date
    occurred_at: datetime | None
    details: str = ""
    account_number: str = ""
    payer: str = ""


@dataclass
class ParsedStatement:
    """What a statement file holds: receipts, rows that are not receipts, unreadable rows."""

    lines: list[ParsedLine] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    skipped: int = 0
    rows: int = 0
    first_day: date | None = None
    last_day: date | None = None

    def saw_day(self, day: date) -> None:
        self.first_day = day if self.first_day is None else min(self.first_day, day)
        self.last_day = day if self.last_day is None else max(self.last_day, day)


class _BadRow(Exception):
    """One row cannot be read; its message is the reason shown to the officer."""


def normalise_reference(raw: str) -> str:
    """References as compared: letters and digits only, upper case, as the counter keeps
    slip and cheque numbers (M-Pesa receipt numbers are already so)."""
    return "".join(ch for ch in raw.upper() if ch.isalnum())


def parse_amount(raw: str, *, column: str) -> Decimal | None:
    """`"1,500.00"` -> `Decimal("1500.00")`; blank -> None; anything else is a bad row."""
    text = "".join(raw.replace(",", "").split())
    if text in ("", "-"):
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise _BadRow(
            _("%(column)s “%(value)s” is not an amount") % {"column": column, "value": raw.strip()}
        ) from None
    exponent = amount.as_tuple().exponent
    if not isinstance(exponent, int) or exponent < -2 or abs(amount) >= 10**12:
        raise _BadRow(
            _("%(column)s “%(value)s” is not an amount in shillings and cents")
            % {"column": column, "value": raw.strip()}
        )
    return amount


def _parse_datetime(raw: str, *, column: str) -> datetime:
    text = raw.strip()
    for pattern in DATETIME_FORMATS:
        try:
            parsed = datetime.strptime(text, pattern)
        except ValueError:
            continue
        return timezone.make_aware(parsed)
    raise _BadRow(
        _("%(column)s “%(value)s” is not a date and time like 2026-11-27 10:15:32")
        % {"column": column, "value": text}
    )


def _parse_date(raw: str, *, column: str) -> date:
    text = raw.strip()
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise _BadRow(
        _("%(column)s “%(value)s” is not a date like 2026-11-27")
        % {"column": column, "value": text}
    )


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError(_("The file is not a text (CSV) file."), code="encoding")


def _rows_after_header(
    text: str, *, required: Sequence[str], kind_label: str
) -> Iterator[tuple[int, list[str], list[str]]]:
    """Yield (row number, header, cells) for each data row after the header row.

    Exports often start with a few lines about the account; the header is the first row
    holding every required column. Blank rows are not data and are passed over.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    for cells in reader:
        stripped = [cell.strip() for cell in cells]
        if header is None:
            if all(column in stripped for column in required):
                header = stripped
            continue
        if any(stripped):
            yield reader.line_num, header, stripped
    if header is None:
        raise ValidationError(
            _(
                "The file is not %(kind)s: no row has the columns %(columns)s. "
                "Export it again as CSV and upload it unchanged."
            )
            % {"kind": kind_label, "columns": ", ".join(f"“{c}”" for c in required)},
            code="header",
        )


RowParser = Callable[[dict[str, str], ParsedStatement], ParsedLine | None]


def _parse_rows(
    rows: Iterable[tuple[int, list[str], list[str]]],
    parse_row: RowParser,
    reference_column: str,
) -> ParsedStatement:
    parsed = ParsedStatement()
    first_row_of: dict[str, int] = {}
    for row_number, header, cells in rows:
        parsed.rows += 1
        try:
            if len(cells) != len(header):
                raise _BadRow(
                    _("it has %(found)s columns where the header has %(expected)s")
                    % {"found": len(cells), "expected": len(header)}
                )
            line = parse_row(dict(zip(header, cells, strict=True)), parsed)
            if line is None:
                parsed.skipped += 1
                continue
            if line.reference in first_row_of:
                raise _BadRow(
                    _("%(column)s %(reference)s is already in row %(row)s")
                    % {
                        "column": reference_column,
                        "reference": line.reference,
                        "row": first_row_of[line.reference],
                    }
                )
        except _BadRow as exc:
            parsed.errors.append(RowError(row_number, str(exc)))
            continue
        first_row_of[line.reference] = row_number
        parsed.lines.append(replace(line, row=row_number))
    return parsed


def _mpesa_row(cells: dict[str, str], parsed: ParsedStatement) -> ParsedLine | None:
    """A receipt is a "Completed" row with money paid in; other rows are not receipts."""
    if cells["Transaction Status"].strip().lower() != "completed":
        return None  # failed or cancelled: no money moved
    completed_at = _parse_datetime(cells["Completion Time"], column="Completion Time")
    day = timezone.localtime(completed_at).date()
    paid_in = parse_amount(cells["Paid In"], column="Paid In")
    parse_amount(cells.get("Withdrawn", ""), column="Withdrawn")
    parsed.saw_day(day)
    if not paid_in:
        return None  # money out: a withdrawal, a transfer or a charge
    if paid_in < 0:
        raise _BadRow(_("“Paid In” is negative"))
    receipt = normalise_reference(cells["Receipt No."])
    if not receipt:
        raise _BadRow(_("“Receipt No.” is empty"))
    if len(receipt) > MAX_REFERENCE_LENGTH:
        raise _BadRow(
            _("“Receipt No.” is longer than %(n)s characters") % {"n": MAX_REFERENCE_LENGTH}
        )
    account = cells["A/C No."].strip()
    if len(account) > MAX_ACCOUNT_LENGTH:
        raise _BadRow(_("“A/C No.” is longer than %(n)s characters") % {"n": MAX_ACCOUNT_LENGTH})
    return ParsedLine(
        row=0,
        reference=receipt,
        amount=paid_in,
        occurred_on=day,
        occurred_at=completed_at,
        details=cells.get("Details", "")[:255],
        account_number=account,
        payer=cells.get("Other Party Info", "")[:150],
    )


def _bank_row(cells: dict[str, str], parsed: ParsedStatement) -> ParsedLine | None:
    """A receipt is a row with a credit; debits (money going out) are not receipts."""
    day = _parse_date(cells["Date"], column="Date")
    credit = parse_amount(cells["Credit"], column="Credit")
    debit = parse_amount(cells.get("Debit", ""), column="Debit")
    parsed.saw_day(day)
    if not credit:
        return None
    if credit < 0:
        raise _BadRow(_("“Credit” is negative"))
    if debit:
        raise _BadRow(_("it has both a debit and a credit"))
    reference = normalise_reference(cells["Reference"])
    if not reference:
        raise _BadRow(_("“Reference” is empty"))
    if len(reference) > MAX_REFERENCE_LENGTH:
        raise _BadRow(
            _("“Reference” is longer than %(n)s characters") % {"n": MAX_REFERENCE_LENGTH}
        )
    return ParsedLine(
        row=0,
        reference=reference,
        amount=credit,
        occurred_on=day,
        occurred_at=None,
        details=cells.get("Description", "")[:255],
    )


def parse_statement(*, kind: str, content: bytes) -> ParsedStatement:
    """Read a statement file; a file that is not such a statement at all is refused."""
    text = _decode(content)
    if kind == StatementKind.MPESA:
        rows = _rows_after_header(
            text, required=MPESA_REQUIRED, kind_label=_("an M-Pesa organisation statement")
        )
        return _parse_rows(rows, _mpesa_row, "Receipt No.")
    if kind == StatementKind.BANK:
        rows = _rows_after_header(text, required=BANK_REQUIRED, kind_label=_("a bank statement"))
        return _parse_rows(rows, _bank_row, "Reference")
    raise ValidationError(_("Choose the kind of statement."), code="kind")
