"""Staff pages of the ledger: the trial balance, an account's statement, closing a month.

Reading needs "ledger.view"; closing a month needs "ledger.close_period" (a supervisor).
The ledger knows nothing of payments: these pages show accounts, entries and periods.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from kaunti.accounts.decorators import staff_required
from kaunti.accounts.permissions import has_permission
from kaunti.core.forms import GovukDateField
from kaunti.core.money import ZERO
from kaunti.ledger import selectors, services
from kaunti.ledger.models import Account, AccountingPeriod, AccountType, JournalLine

VIEW = "ledger.view"
CLOSE_PERIOD = "ledger.close_period"
PAGE_SIZE = 100


class AsOfForm(forms.Form):
    as_of = GovukDateField(
        label=gettext_lazy("As of"),
        error_messages={
            "required": gettext_lazy("Enter a date."),
            "invalid": gettext_lazy("Enter a real date."),
        },
    )


class StatementPeriodForm(forms.Form):
    start = GovukDateField(
        label=gettext_lazy("From"),
        error_messages={"invalid": gettext_lazy("Enter a real date.")},
    )
    end = GovukDateField(
        label=gettext_lazy("To"),
        error_messages={"invalid": gettext_lazy("Enter a real date.")},
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            self.add_error("end", gettext_lazy("The last day must be on or after the first day."))
        return cleaned


class ClosePeriodForm(forms.Form):
    """A month that has ended: the current month still takes payments, so it cannot close."""

    month = forms.DateField(
        label=gettext_lazy("Month to close"),
        input_formats=["%Y-%m"],
        help_text=gettext_lazy("For example, 2026-10"),
        widget=forms.DateInput(
            attrs={"type": "month", "class": "govuk-input govuk-input--width-10"}, format="%Y-%m"
        ),
        error_messages={
            "required": gettext_lazy("Enter the month to close."),
            "invalid": gettext_lazy("Enter a month like 2026-10."),
        },
    )

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_month(self) -> date:
        month: date = self.cleaned_data["month"]
        if month >= self.today.replace(day=1):
            raise forms.ValidationError(gettext_lazy("Only a month that has ended can be closed."))
        return month


@dataclass(frozen=True)
class Balance:
    """A signed balance (debit positive) as accountants write it: an amount and Dr or Cr."""

    amount: Decimal

    @property
    def side(self) -> str:
        if self.amount == 0:
            return ""
        return _("Dr") if self.amount > 0 else _("Cr")

    @property
    def magnitude(self) -> Decimal:
        return abs(self.amount)


@dataclass(frozen=True)
class StatementRow:
    line: JournalLine
    balance: Balance


def _signed_total(lines: QuerySet[JournalLine]) -> Decimal:
    totals = lines.aggregate(debit=Sum("debit"), credit=Sum("credit"))
    return (totals["debit"] or ZERO) - (totals["credit"] or ZERO)


def _statement_page(
    *, account: Account, start: date, end: date, page_number: str | None
) -> tuple[Page[JournalLine], Decimal, list[StatementRow], Decimal]:
    """One page of an account's lines in a period, each with the running balance after it.

    The balance carried into the page is the opening balance plus the lines of the period
    before the page, summed by the database: a page costs the same wherever it falls.
    """
    lines = JournalLine.objects.filter(account=account)
    opening = _signed_total(lines.filter(entry__posted_on__lt=start))
    in_period = lines.filter(entry__posted_on__gte=start, entry__posted_on__lte=end)
    ordered = in_period.select_related("entry").order_by("entry__posted_on", "id")
    page = Paginator(ordered, PAGE_SIZE).get_page(page_number)
    running = opening
    if page.object_list:
        first = page.object_list[0]
        running += _signed_total(
            in_period.filter(
                Q(entry__posted_on__lt=first.entry.posted_on)
                | Q(entry__posted_on=first.entry.posted_on, id__lt=first.id)
            )
        )
    rows = []
    for line in page.object_list:
        running += line.debit - line.credit
        rows.append(StatementRow(line, Balance(running)))
    closing = opening + _signed_total(in_period)
    return page, opening, rows, closing


@staff_required(VIEW)
@require_GET
def trial_balance(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    # The day, month and year boxes (as_of_day...) or a link's single ?as_of=2026-10-31.
    asked = any(key.startswith("as_of") for key in request.GET)
    form = AsOfForm(request.GET if asked else {"as_of": today.isoformat()})
    balance = (
        selectors.get_trial_balance(as_of=form.cleaned_data["as_of"]) if form.is_valid() else None
    )
    rows = (
        [(row, Balance(row.balance), AccountType(row.type).label) for row in balance.rows]
        if balance
        else []
    )
    return render(
        request, "ledger/trial_balance.html", {"form": form, "balance": balance, "rows": rows}
    )


@staff_required(VIEW)
@require_GET
def account_statement(request: HttpRequest, code: str) -> HttpResponse:
    account = Account.objects.filter(code=code).first()
    if account is None:
        raise Http404("no such account")
    today = timezone.localdate()
    form = StatementPeriodForm(
        request.GET
        if any(key.startswith("start") for key in request.GET)
        else {"start": today.replace(day=1).isoformat(), "end": today.isoformat()}
    )
    context: dict[str, Any] = {"account": account, "form": form}
    if form.is_valid():
        page, opening, rows, closing = _statement_page(
            account=account,
            start=form.cleaned_data["start"],
            end=form.cleaned_data["end"],
            page_number=request.GET.get("page"),
        )
        context.update(
            page=page,
            rows=rows,
            opening=Balance(opening),
            closing=Balance(closing),
            query=f"start={form.cleaned_data['start']:%Y-%m-%d}&end={form.cleaned_data['end']:%Y-%m-%d}",
        )
    return render(request, "ledger/account_statement.html", context)


def _periods_page(request: HttpRequest, form: ClosePeriodForm, status: int = 200) -> HttpResponse:
    context = {
        "form": form,
        "periods": AccountingPeriod.objects.select_related("closed_by").order_by("-year", "-month"),
        "may_close": has_permission(request.user, CLOSE_PERIOD),
    }
    return render(request, "ledger/periods.html", context, status=status)


@staff_required(VIEW)
@require_GET
def periods(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    return _periods_page(request, ClosePeriodForm(today=today))


@staff_required(CLOSE_PERIOD)
@require_POST
def close_period(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    form = ClosePeriodForm(request.POST, today=today)
    if not form.is_valid():
        return _periods_page(request, form, status=400)
    month: date = form.cleaned_data["month"]
    period = services.close_period(year=month.year, month=month.month, actor=request.user)
    messages.success(
        request,
        _("%(period)s is closed: nothing more can be posted into it.") % {"period": str(period)},
    )
    return redirect(reverse("ledger:periods"))
