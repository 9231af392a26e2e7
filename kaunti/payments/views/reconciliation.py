"""Staff pages: import M-Pesa and bank statements, see what matched, review what did not.

Thin: the form checks shape, `services.reconciliation` imports and decides, and the
results are read through `selectors.reconciliation`.
"""

from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kaunti.accounts.decorators import staff_required
from kaunti.core.forms import GovukDateField
from kaunti.payments.models import MatchStatus, StatementImport, StatementKind, StatementLine
from kaunti.payments.selectors.reconciliation import (
    count_statement_lines,
    get_statement_import,
    get_statement_line,
    list_payments_missing_from_statement,
    list_statement_imports,
    list_statement_lines,
)
from kaunti.payments.services import reconciliation as services
from kaunti.payments.services.counter import BANKS

RECONCILE = "payments.reconcile"
PAGE_SIZE = 50
MISSING_IN_STATEMENT = "missing_in_statement"


class StatementUploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Which statement is it?"),
        choices=StatementKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choose the kind of statement.")},
    )
    bank = forms.ChoiceField(
        label=gettext_lazy("Bank (for a bank statement)"),
        required=False,
        choices=[("", gettext_lazy("Choose the bank")), *BANKS],
        widget=forms.Select(attrs={"class": "govuk-select"}),
    )
    statement_file = forms.FileField(
        label=gettext_lazy("Statement file (CSV)"),
        help_text=gettext_lazy(
            "The M-Pesa organisation statement or the bank statement exported as CSV, unchanged."
        ),
        widget=forms.FileInput(attrs={"class": "govuk-file-upload", "accept": ".csv"}),
        error_messages={"required": gettext_lazy("Choose the statement file.")},
    )
    period_start = GovukDateField(
        label=gettext_lazy("Period from (optional)"),
        required=False,
        help_text=gettext_lazy("Leave empty to use the first day in the file."),
        error_messages={"invalid": gettext_lazy("Enter a real date.")},
    )
    period_end = GovukDateField(
        label=gettext_lazy("Period to (optional)"),
        required=False,
        help_text=gettext_lazy("Leave empty to use the last day in the file."),
        error_messages={"invalid": gettext_lazy("Enter a real date.")},
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("kind") == StatementKind.BANK and not cleaned.get("bank"):
            self.add_error("bank", gettext_lazy("Choose the bank of the statement."))
        return cleaned

    def clean_statement_file(self) -> Any:
        upload = self.cleaned_data["statement_file"]
        if upload.size > services.MAX_FILE_BYTES:
            raise ValidationError(gettext_lazy("The file is larger than 20 MB."))
        return upload


class IgnoreLineForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for ignoring"),
        max_length=255,
        widget=forms.TextInput(attrs={"class": "govuk-input"}),
        error_messages={"required": gettext_lazy("Give the reason for ignoring this line.")},
    )


def _statement_or_404(public_id: UUID) -> StatementImport:
    statement = get_statement_import(public_id=public_id)
    if statement is None:
        raise Http404("no such statement")
    return statement


def _line_or_404(statement: StatementImport, row_number: int) -> StatementLine:
    line = get_statement_line(statement=statement, row_number=row_number)
    if line is None:
        raise Http404("no such row")
    return line


@staff_required(RECONCILE)
@require_GET
def statement_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(list_statement_imports(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "payments/reconciliation_list.html", {"page": page})


@staff_required(RECONCILE)
@require_http_methods(["GET", "POST"])
def statement_import(request: HttpRequest) -> HttpResponse:
    form = StatementUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["statement_file"]
        try:
            statement = services.import_statement(
                kind=form.cleaned_data["kind"],
                file_name=upload.name or "",
                content=upload.read(),
                actor=request.user,
                bank_code=form.cleaned_data["bank"],
                period_start=form.cleaned_data["period_start"],
                period_end=form.cleaned_data["period_end"],
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(
                request,
                _("The statement is imported: %(lines)s receipts to reconcile.")
                % {"lines": statement.line_count},
            )
            return redirect("payments:reconciliation_detail", public_id=statement.public_id)
    return render(request, "payments/reconciliation_import.html", {"form": form})


@staff_required(RECONCILE)
@require_GET
def statement_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    statement = _statement_or_404(public_id)
    counts = count_statement_lines(statement=statement)
    missing_in_statement = list_payments_missing_from_statement(statement=statement)
    tabs = [
        (
            MatchStatus.MISSING_IN_KAUNTI,
            _("Missing in Kaunti"),
            counts[MatchStatus.MISSING_IN_KAUNTI],
        ),
        (MatchStatus.AMOUNT_MISMATCH, _("Amount differs"), counts[MatchStatus.AMOUNT_MISMATCH]),
        (MISSING_IN_STATEMENT, _("Missing in the statement"), missing_in_statement.count()),
        (MatchStatus.MATCHED, _("Matched"), counts[MatchStatus.MATCHED]),
    ]
    show = request.GET.get("show", "")
    if show not in {tab[0] for tab in tabs}:
        show = next((key for key, _label, count in tabs if count), MatchStatus.MATCHED)
    rows: Any = (
        missing_in_statement
        if show == MISSING_IN_STATEMENT
        else list_statement_lines(statement=statement, status=show)
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "statement": statement,
        "bank_name": dict(BANKS).get(statement.bank_code, ""),
        "tabs": tabs,
        "show": show,
        "page": page,
        "row_errors": services.describe_errors(
            [services.RowError(e["row"], e["reason"]) for e in statement.errors],
            limit=len(statement.errors),
        ),
        "unlisted_errors": statement.error_count - len(statement.errors),
    }
    return render(request, "payments/reconciliation_detail.html", context)


def _back_to(statement: StatementImport, show: str) -> HttpResponse:
    url = reverse("payments:reconciliation_detail", kwargs={"public_id": statement.public_id})
    return redirect(f"{url}?show={show}")


@staff_required(RECONCILE)
@require_POST
def record_line(request: HttpRequest, public_id: UUID, row_number: int) -> HttpResponse:
    statement = _statement_or_404(public_id)
    line = _line_or_404(statement, row_number)
    try:
        payment = services.record_statement_line(line=line, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if payment.is_in_suspense:
            text = _("Row %(row)s is recorded and held in suspense until an officer assigns it.")
        else:
            text = _("Row %(row)s is recorded on bill %(bill)s.")
        messages.success(
            request, text % {"row": row_number, "bill": payment.bill.number if payment.bill else ""}
        )
    return _back_to(statement, line.status)


@staff_required(RECONCILE)
@require_POST
def ignore_line(request: HttpRequest, public_id: UUID, row_number: int) -> HttpResponse:
    statement = _statement_or_404(public_id)
    line = _line_or_404(statement, row_number)
    form = IgnoreLineForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, _("Give the reason for ignoring row %(row)s.") % {"row": row_number}
        )
        return _back_to(statement, line.status)
    try:
        services.ignore_statement_line(
            line=line, reason=form.cleaned_data["reason"], actor=request.user
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Row %(row)s is marked as ignored.") % {"row": row_number})
    return _back_to(statement, line.status)


urlpatterns: list[URLPattern] = [
    path("staff/reconciliation/", statement_list, name="reconciliation_list"),
    path("staff/reconciliation/import/", statement_import, name="reconciliation_import"),
    path(
        "staff/reconciliation/<uuid:public_id>/",
        statement_detail,
        name="reconciliation_detail",
    ),
    path(
        "staff/reconciliation/<uuid:public_id>/rows/<int:row_number>/record/",
        record_line,
        name="reconciliation_record",
    ),
    path(
        "staff/reconciliation/<uuid:public_id>/rows/<int:row_number>/ignore/",
        ignore_line,
        name="reconciliation_ignore",
    ),
]
