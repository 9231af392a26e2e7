"""Reconciliation: compare what M-Pesa and the bank say the county received with Kaunti.

An officer imports a statement file: Safaricom's organisation statement for the paybill
(CSV, as the M-Pesa portal exports it) or the bank's statement of the revenue account
(CSV), read by `statements`. Each receipt in it becomes a `StatementLine`, matched on its
reference against Kaunti's payments: M-Pesa receipts against `Payment.mpesa_receipt`,
bank credits against the slip number of counter payments by bank deposit or cheque
(`Payment.external_ref`).
A line is matched, differs in amount, or is missing in Kaunti; Kaunti's payments of the
period missing in the statement are computed when shown (`selectors.reconciliation`).

Every row of the file is accounted for: a row that cannot be read is listed with its row
number and reason, rows that are not receipts (withdrawals, charges, failed transactions)
are counted, and the good rows are kept. An officer then decides each unmatched line
once: record it in Kaunti (through `record_payment`, so an unknown bill lands in suspense
and a repeat is a no-op) or ignore it with a reason. Every import and decision is audited.
"""

import hashlib
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kaunti.core.bulk import batched
from kaunti.core.services.audit import record_event
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
from kaunti.payments.selectors.reconciliation import counter_slip_number
from kaunti.payments.selectors.reports import BANK_CHANNELS, MPESA_CHANNELS
from kaunti.payments.services.counter import BANK_CODES, COUNTER_PROVIDER
from kaunti.payments.services.recording import record_payment
from kaunti.payments.services.statements import (
    ParsedLine,
    RowError,
    parse_statement,
)

# A line recorded from a statement takes the reference its channel would have given it:
# the paybill confirmation for the same receipt arriving later is then a no-op, and the
# same slip brought to the counter later is refused as already receipted.
MPESA_PROVIDER = "mpesa-c2b"

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_STORED_ERRORS = 1000
_LOOKUP_CHUNK = 500


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
