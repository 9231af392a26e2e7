"""What a bank or M-Pesa statement import found: its lines by status, and the payments
Kaunti recorded that the statement does not show."""

from datetime import datetime, time, timedelta
from uuid import UUID

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from kaunti.payments.models import (
    Channel,
    MatchStatus,
    Payment,
    StatementImport,
    StatementKind,
    StatementLine,
)
from kaunti.payments.selectors.reports import MPESA_CHANNELS


def list_statement_imports() -> QuerySet[StatementImport]:
    """Imported statements, newest first, with who imported them and lines still to review."""
    return (
        StatementImport.objects.select_related("imported_by")
        .annotate(
            to_review=Count(
                "lines",
                filter=~Q(lines__status=MatchStatus.MATCHED) & Q(lines__decision=""),
            )
        )
        .order_by("-imported_at", "-pk")
    )


def get_statement_import(*, public_id: UUID | str) -> StatementImport | None:
    return StatementImport.objects.select_related("imported_by").filter(public_id=public_id).first()


def count_statement_lines(*, statement: StatementImport) -> dict[str, int]:
    """How many lines of the statement have each match status."""
    counts = dict.fromkeys(MatchStatus.values, 0)
    for row in statement.lines.values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts


def list_statement_lines(*, statement: StatementImport, status: str) -> QuerySet[StatementLine]:
    return (
        statement.lines.filter(status=status)
        .select_related("payment", "decided_by")
        .order_by("row_number")
    )


def get_statement_line(*, statement: StatementImport, row_number: int) -> StatementLine | None:
    return statement.lines.filter(row_number=row_number).first()


def _period_bounds(statement: StatementImport) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(statement.period_start, time.min))
    end = timezone.make_aware(datetime.combine(statement.period_end + timedelta(days=1), time.min))
    return start, end


def counter_slip_number(external_ref: str) -> str:
    """The slip or cheque number in a counter reference (`bank:kcb:12345` -> `12345`)."""
    return external_ref.rsplit(":", 1)[-1]


def list_payments_missing_from_statement(*, statement: StatementImport) -> QuerySet[Payment]:
    """Kaunti's payments of the statement's channels and period that it does not show.

    Computed each time from the database (not stored), so a payment recorded since the
    import is always reflected. M-Pesa: paybill and prompt payments by receipt number.
    Bank: deposit slips of the statement's bank and cheques, by slip or cheque number.
    """
    start, end = _period_bounds(statement)
    payments = Payment.objects.filter(paid_at__gte=start, paid_at__lt=end)
    if statement.kind == StatementKind.MPESA:
        payments = payments.filter(channel__in=MPESA_CHANNELS).exclude(
            mpesa_receipt__in=statement.lines.values("reference")
        )
    else:
        # Counter payments by slip or cheque are a few a day: compare their numbers here.
        shown = set(statement.lines.values_list("reference", flat=True))
        candidates = payments.filter(
            Q(channel=Channel.BANK, external_ref__startswith=f"bank:{statement.bank_code}:")
            | Q(channel=Channel.CHEQUE, external_ref__startswith="cheque:")
        ).values_list("pk", "external_ref")
        payments = payments.filter(
            pk__in=[pk for pk, ref in candidates if counter_slip_number(ref) not in shown]
        )
    return payments.select_related("bill").order_by("paid_at", "pk")
