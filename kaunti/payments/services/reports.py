"""Report files: a revenue summary as CSV or as an Excel workbook, built in memory.

Nothing here writes to the database: a summary (`selectors.reports.summarise_revenue`)
has at most one row per stream, ward, channel, day or month of the period, so the whole
file is small whatever the number of payments behind it.

Text cells that a spreadsheet would run as a formula (starting with =, +, - or @) are
prefixed with an apostrophe (OWASP "CSV injection"); amounts are written as numbers.
"""

import csv
import io
from decimal import Decimal

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from kaunti.payments.selectors.reports import RevenueSummary

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
AMOUNT_FORMAT = "#,##0.00"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | Decimal | None


def _safe_text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _group_heading(summary: RevenueSummary) -> str:
    return {
        "stream": _("Revenue stream"),
        "ward": _("Ward"),
        "channel": _("Channel"),
        "day": _("Day"),
        "month": _("Month"),
    }[summary.group_by]


def revenue_table(summary: RevenueSummary) -> list[list[Cell]]:
    """The rows of the report file: a header, one row per group, then the total."""
    table: list[list[Cell]] = [
        [
            _group_heading(summary),
            _("Code"),
            _("Payments"),
            _("Amount (KES)"),
            _("Target (KES)"),
            _("Per cent of target"),
        ]
    ]
    for row in summary.rows:
        table.append(
            [
                _safe_text(row.label),
                _safe_text(row.key),
                row.count,
                row.amount,
                row.target,
                row.percent_of_target,
            ]
        )
    table.append(
        [
            _("Total"),
            "",
            summary.total_count,
            summary.total_amount,
            summary.total_target,
            summary.percent_of_target,
        ]
    )
    return table


def file_name(summary: RevenueSummary, extension: str) -> str:
    """`revenue-by-stream-2026-07-01-to-2026-11-27.csv`."""
    period = f"{summary.filter.start.isoformat()}-to-{summary.filter.end.isoformat()}"
    return f"revenue-by-{summary.group_by}-{period}.{extension}"


def render_revenue_csv(summary: RevenueSummary) -> bytes:
    """The summary as CSV in UTF-8 with a byte-order mark (so Excel reads Kiswahili names)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in revenue_table(summary):
        writer.writerow(["" if cell is None else cell for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def render_revenue_xlsx(summary: RevenueSummary) -> bytes:
    """The summary as an Excel workbook: the table, with a second sheet saying what it covers."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook has one sheet
    sheet.title = _("Revenue")[:31]
    table = revenue_table(summary)
    for row in table:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for cell in sheet[len(table)]:
        cell.font = Font(bold=True)
    for column in ("D", "E"):
        for cell in sheet[column][1:]:
            cell.number_format = AMOUNT_FORMAT
    sheet.column_dimensions["A"].width = 40
    sheet.column_dimensions["B"].width = 24
    for column in ("C", "D", "E", "F"):
        sheet.column_dimensions[column].width = 18
    sheet.freeze_panes = "A2"
    about = workbook.create_sheet(_("About")[:31])
    revenue_filter = summary.filter
    about.append([_("From"), revenue_filter.start])
    about.append([_("To"), revenue_filter.end])
    about.append([_("Revenue stream"), _safe_text(revenue_filter.stream_code) or _("All")])
    about.append([_("Ward"), _safe_text(revenue_filter.ward_code) or _("All")])
    about.append([_("Channel"), _safe_text(revenue_filter.channel) or _("All")])
    about.append(
        [
            _("Targets"),
            _("Annual targets prorated by days to the period (financial year July to June).")
            if revenue_filter.has_targets
            else _("Targets are set per stream for the whole county, not per ward or channel."),
        ]
    )
    for cell in about["B"][:2]:
        cell.number_format = "yyyy-mm-dd"
    about.column_dimensions["A"].width = 20
    about.column_dimensions["B"].width = 80
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
