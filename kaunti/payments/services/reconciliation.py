"""Reconciliation: compare what M-Pesa and the bank say the county received with Kaunti.

An officer imports a statement file: Safaricom's organisation statement for the paybill
(CSV, as the M-Pesa portal exports it) or the bank's statement of the revenue account
(CSV). Each receipt in it becomes a `StatementLine`, matched on its reference against
Kaunti's payments: M-Pesa receipts against `Payment.mpesa_receipt`, bank credits against
the slip number of counter payments by bank deposit or cheque (`Payment.external_ref`).
A line is matched, differs in amount, or is missing in Kaunti; Kaunti's payments of the
period missing in the statement are computed when shown (`selectors.reports`).

Every row of the file is accounted for: a row that cannot be read is listed with its row
number and reason, rows that are not receipts (withdrawals, charges, failed transactions)
are counted, and the good rows are kept. An officer then decides each unmatched line
once: record it in Kaunti (through `record_payment`, so an unknown bill lands in suspense
and a repeat is a no-op) or ignore it with a reason. Every import and decision is audited.
"""

import csv
import hashlib
import io
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kaunti.core.audit import record_event
from kaunti.core.bulk import batched
from kaunti.ledger.services import PeriodClosed
from kaunti.payments.models import (
    Channel,
    LineDecision,
    MatchStatus,
    Payment,
    StatementImport,
    StatementKind,
    StatementLine,
)
from kaunti.payments.selectors.reports import BANK_CHANNELS, MPESA_CHANNELS, counter_slip_number
from kaunti.payments.services.counter import BANK_CODES, COUNTER_PROVIDER
from kaunti.payments.services.recording import record_payment

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

# A line recorded from a statement takes the reference its channel would have given it:
# the paybill confirmation for the same receipt arriving later is then a no-op, and the
# same slip brought to the counter later is refused as already receipted.
MPESA_PROVIDER = "mpesa-c2b"

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_STORED_ERRORS = 1000
MAX_REFERENCE_LENGTH = 64
MAX_ACCOUNT_LENGTH = 64
_LOOKUP_CHUNK = 500

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


def counter_references(bank_code: str, number: str) -> list[str]:
    """The counter's references (`Payment.external_ref`) a statement credit may match: a
    deposit slip of the statement's bank, first, or a cheque drawn on any bank.

    The counter keeps `<method>:<bank>:<number>` (services.counter), the number in
    letters and digits only, upper case.
    """
    return [f"bank:{bank_code}:{number}", *(f"cheque:{code}:{number}" for code in BANK_CODES)]


def find_kaunti_payments(
    *, kind: str, references: Sequence[str], bank_code: str = ""
) -> dict[str, Payment]:
    """Kaunti's payments for the given statement references, by reference.

    M-Pesa: by receipt number. Bank: by the counter's reference of a deposit slip of the
    statement's bank, or of a cheque drawn on any bank (looked up exactly, on the index
    that makes each slip or cheque receiptable once).
    """
    found: dict[str, Payment] = {}
    for chunk in batched(references, _LOOKUP_CHUNK):
        if kind == StatementKind.MPESA:
            payments = Payment.objects.filter(channel__in=MPESA_CHANNELS, mpesa_receipt__in=chunk)
            for payment in payments.order_by("pk"):
                found.setdefault(payment.mpesa_receipt, payment)
        else:
            candidates = [
                ref for reference in chunk for ref in counter_references(bank_code, reference)
            ]
            payments = Payment.objects.filter(
                provider=COUNTER_PROVIDER, channel__in=BANK_CHANNELS, external_ref__in=candidates
            )
            for payment in payments.order_by("pk"):
                found.setdefault(counter_slip_number(payment.external_ref), payment)
    return found


def _status_for(line: ParsedLine, payment: Payment | None) -> str:
    if payment is None:
        return MatchStatus.MISSING_IN_KAUNTI
    return MatchStatus.MATCHED if payment.amount == line.amount else MatchStatus.AMOUNT_MISMATCH


def describe_errors(errors: Sequence[RowError], *, limit: int = 20) -> list[str]:
    """Row errors as sentences an officer can act on, the first `limit` of them."""
    shown = [
        _("Row %(row)s: %(reason)s.") % {"row": error.row, "reason": error.reason}
        for error in errors[:limit]
    ]
    if len(errors) > limit:
        hidden = len(errors) - limit
        shown.append(
            ngettext("and %(n)s more row.", "and %(n)s more rows.", hidden) % {"n": hidden}
        )
    return shown


@transaction.atomic
def import_statement(
    *,
    kind: str,
    file_name: str,
    content: bytes,
    actor: Any,
    bank_code: str = "",
    period_start: date | None = None,
    period_end: date | None = None,
) -> StatementImport:
    """Import a statement file, match each receipt to Kaunti, and keep a list of bad rows.

    A bank statement names its bank (`bank_code`, as the counter names banks): deposit
    slip numbers are unique only within one bank. The period covered defaults to the
    first and last day the file shows. A file that is not a statement, has no readable
    receipts or was imported before is refused whole.
    """
    if kind == StatementKind.BANK and bank_code not in BANK_CODES:
        raise ValidationError(_("Choose the bank of the statement."), code="bank")
    if kind == StatementKind.MPESA:
        bank_code = ""
    if len(content) > MAX_FILE_BYTES:
        raise ValidationError(_("The file is larger than 20 MB; export a shorter period."))
    digest = hashlib.sha256(content).hexdigest()
    earlier = StatementImport.objects.filter(kind=kind, file_sha256=digest).first()
    if earlier is not None:
        raise ValidationError(
            _("This file was already imported on %(day)s.")
            % {"day": timezone.localtime(earlier.imported_at).strftime("%Y-%m-%d %H:%M")},
            code="duplicate",
        )
    parsed = parse_statement(kind=kind, content=content)
    if not parsed.lines:
        if parsed.errors:
            raise ValidationError(
                [
                    _("No receipt in the file could be read; nothing was imported."),
                    *describe_errors(parsed.errors),
                ],
                code="no_lines",
            )
        raise ValidationError(_("The file has no receipts to reconcile."), code="empty")
    start = period_start or parsed.first_day
    end = period_end or parsed.last_day
    if start is None or end is None or start > end:
        raise ValidationError(_("The period must start on or before the day it ends."))
    try:
        with transaction.atomic():
            statement = StatementImport.objects.create(
                kind=kind,
                file_name=file_name[:255],
                file_sha256=digest,
                bank_code=bank_code,
                period_start=start,
                period_end=end,
                imported_by=actor,
                row_count=parsed.rows,
                line_count=len(parsed.lines),
                skipped_count=parsed.skipped,
                error_count=len(parsed.errors),
                errors=[
                    {"row": e.row, "reason": e.reason} for e in parsed.errors[:MAX_STORED_ERRORS]
                ],
            )
    except IntegrityError:
        if not StatementImport.objects.filter(kind=kind, file_sha256=digest).exists():
            raise
        # The same file, imported by someone else a moment ago.
        raise ValidationError(_("This file was already imported."), code="duplicate") from None
    payments = find_kaunti_payments(
        kind=kind, references=[line.reference for line in parsed.lines], bank_code=bank_code
    )
    lines = []
    for line in parsed.lines:
        payment = payments.get(line.reference)
        lines.append(
            StatementLine(
                statement=statement,
                row_number=line.row,
                reference=line.reference,
                amount=line.amount,
                occurred_on=line.occurred_on,
                occurred_at=line.occurred_at,
                details=line.details,
                account_number=line.account_number,
                payer=line.payer,
                status=_status_for(line, payment),
                payment=payment,
            )
        )
    StatementLine.objects.bulk_create(lines, batch_size=1000)
    counts = Counter(statement_line.status for statement_line in lines)
    record_event(
        actor=actor,
        action="payments.statement_imported",
        target=statement,
        data={
            "kind": kind,
            "bank": bank_code,
            "file": statement.file_name,
            "sha256": digest,
            "period": [start, end],
            "rows": parsed.rows,
            "lines": len(lines),
            "skipped": parsed.skipped,
            "errors": len(parsed.errors),
            **{status: counts[status] for status in MatchStatus.values},
        },
    )
    return statement


def _lock_line(line: StatementLine) -> StatementLine:
    return StatementLine.objects.select_for_update().select_related("statement").get(pk=line.pk)


def _check_undecided(locked: StatementLine, *, allowed: Sequence[str], refusal: str) -> None:
    if locked.decision:
        raise ValidationError(_("This line has already been reviewed."), code="decided")
    if locked.status not in allowed:
        raise ValidationError(refusal, code="not_allowed")


@transaction.atomic
def record_statement_line(*, line: StatementLine, actor: Any) -> Payment:
    """Record a receipt missing in Kaunti as a payment; doing it again changes nothing.

    It goes through `record_payment`: on the bill the payer typed (A/C No.) when that bill
    is open, otherwise into suspense for an officer to assign. A receipt that reached
    Kaunti since the import (a late callback) is linked, not recorded twice.
    """
    locked = _lock_line(line)
    if locked.decision == LineDecision.RECORDED and locked.payment is not None:
        return locked.payment
    _check_undecided(
        locked,
        allowed=[MatchStatus.MISSING_IN_KAUNTI],
        refusal=_("Only lines missing in Kaunti can be recorded."),
    )
    statement = locked.statement
    arrived = find_kaunti_payments(
        kind=statement.kind, references=[locked.reference], bank_code=statement.bank_code
    ).get(locked.reference)
    if arrived is not None:
        payment, created = arrived, False
    else:
        is_mpesa = statement.kind == StatementKind.MPESA
        paid_at = locked.occurred_at or timezone.make_aware(
            datetime.combine(locked.occurred_on, time.min)
        )
        try:
            recorded = record_payment(
                provider=MPESA_PROVIDER if is_mpesa else COUNTER_PROVIDER,
                external_ref=locked.reference
                if is_mpesa
                else counter_references(statement.bank_code, locked.reference)[0],
                channel=Channel.MPESA_PAYBILL if is_mpesa else Channel.BANK,
                amount=locked.amount,
                paid_at=paid_at,
                bill_number=locked.account_number,
                payer_name=locked.payer,
                mpesa_receipt=locked.reference if is_mpesa else "",
                raw={
                    "statement": str(statement.public_id),
                    "row": locked.row_number,
                    "details": locked.details,
                },
                actor=actor,
            )
        except PeriodClosed:
            raise ValidationError(
                _(
                    "The books for %(month)s are closed, so this receipt cannot be recorded "
                    "on its own date. Ask a supervisor."
                )
                % {"month": locked.occurred_on.strftime("%Y-%m")},
                code="period_closed",
            ) from None
        payment, created = recorded.payment, recorded.created
    locked.decision = LineDecision.RECORDED
    locked.payment = payment
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.save(update_fields=["decision", "payment", "decided_by", "decided_at"])
    record_event(
        actor=actor,
        action="payments.statement_line_recorded",
        target=locked,
        data={
            "statement": str(statement.public_id),
            "row": locked.row_number,
            "reference": locked.reference,
            "amount": locked.amount,
            "payment": str(payment.public_id),
            "created": created,
            "suspense": payment.is_in_suspense,
        },
    )
    return payment


@transaction.atomic
def ignore_statement_line(*, line: StatementLine, reason: str, actor: Any) -> StatementLine:
    """Mark an unmatched line reviewed without recording money, giving the reason."""
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError(_("Give the reason for ignoring this line."), code="reason")
    locked = _lock_line(line)
    _check_undecided(
        locked,
        allowed=[MatchStatus.MISSING_IN_KAUNTI, MatchStatus.AMOUNT_MISMATCH],
        refusal=_("Only lines that are missing in Kaunti or differ in amount can be ignored."),
    )
    locked.decision = LineDecision.IGNORED
    locked.decision_reason = reason[:255]
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.save(update_fields=["decision", "decision_reason", "decided_by", "decided_at"])
    record_event(
        actor=actor,
        action="payments.statement_line_ignored",
        target=locked,
        data={
            "statement": str(locked.statement.public_id),
            "row": locked.row_number,
            "reference": locked.reference,
            "amount": locked.amount,
            "status": locked.status,
            "reason": locked.decision_reason,
        },
    )
    return locked
