"""Staff pages: the revenue dashboard, the revenue report and its CSV and Excel downloads.

Figures come from the daily collections summary (`selectors.reports`); the dashboard's
charts are drawn by kaunti/static/kaunti/dashboard.js from data in a `json_script`
element, and the same figures are in tables for screen readers and browsers without JS.
"""

from datetime import date
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from kaunti.accounts.decorators import staff_required
from kaunti.core.forms import GovukDateField
from kaunti.payments.numbering import financial_year
from kaunti.payments.selectors.dashboard import chart_data, get_revenue_dashboard
from kaunti.payments.selectors.reports import (
    MAX_REPORT_DAYS,
    RevenueFilter,
    RevenueSummary,
    financial_year_bounds,
    list_report_choices,
    summarise_revenue,
)
from kaunti.payments.services import reports as report_files

VIEW_REPORTS = "payments.view_reports"
SELECT_WIDGET = {"class": "govuk-select"}
GROUP_LABELS = {
    "stream": _("Revenue stream"),
    "ward": _("Ward"),
    "channel": _("Channel"),
    "day": _("Day"),
    "month": _("Month"),
}


class RevenueReportForm(forms.Form):
    """What the report covers; read from the query string so a report can be bookmarked."""

    start = GovukDateField(
        label=_("From"),
        error_messages={"required": _("Enter the first day."), "invalid": _("Enter a real date.")},
    )
    end = GovukDateField(
        label=_("To"),
        error_messages={"required": _("Enter the last day."), "invalid": _("Enter a real date.")},
    )
    group_by = forms.ChoiceField(
        label=_("Group by"),
        choices=list(GROUP_LABELS.items()),
        widget=forms.Select(attrs=SELECT_WIDGET),
    )
    stream = forms.ChoiceField(
        label=_("Revenue stream"), required=False, widget=forms.Select(attrs=SELECT_WIDGET)
    )
    ward = forms.ChoiceField(
        label=_("Ward"), required=False, widget=forms.Select(attrs=SELECT_WIDGET)
    )
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, widget=forms.Select(attrs=SELECT_WIDGET)
    )

    def __init__(self, *args: Any, choices: dict[str, list[tuple[str, str]]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        for name, key in (("stream", "streams"), ("ward", "wards"), ("channel", "channels")):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [("", _("All")), *choices[key]]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if start > end:
                self.add_error("end", _("The last day must be on or after the first day."))
            elif (end - start).days >= MAX_REPORT_DAYS:
                self.add_error("end", _("Choose a period of at most five years."))
        return cleaned


def _default_query(today: date) -> dict[str, str]:
    year_start, _year_end = financial_year_bounds(financial_year(today))
    return {"start": year_start.isoformat(), "end": today.isoformat(), "group_by": "stream"}


def _report_form(request: HttpRequest) -> RevenueReportForm:
    language = translation.get_language() or "en"
    data = {**_default_query(timezone.localdate()), **request.GET.dict()}
    return RevenueReportForm(data, choices=list_report_choices(language=language))


def _summary(form: RevenueReportForm) -> RevenueSummary:
    data = form.cleaned_data
    return summarise_revenue(
        revenue_filter=RevenueFilter(
            start=data["start"],
            end=data["end"],
            stream_code=data["stream"],
            ward_code=data["ward"],
            channel=data["channel"],
        ),
        group_by=data["group_by"],
        language=translation.get_language() or "en",
    )


@staff_required(VIEW_REPORTS)
@require_GET
def revenue_dashboard(request: HttpRequest) -> HttpResponse:
    dashboard = get_revenue_dashboard(
        today=timezone.localdate(), language=translation.get_language() or "en"
    )
    chart = {
        **chart_data(dashboard),
        "text": {"collected": _("Collected (KES)"), "target": _("Target (KES)")},
    }
    context = {
        "dashboard": dashboard,
        "totals": [
            (_("Today"), dashboard.today),
            (_("This month"), dashboard.this_month),
            (_("This financial year to date"), dashboard.year_to_date),
        ],
        "chart_data": chart,
    }
    return render(request, "payments/dashboard.html", context)


@staff_required(VIEW_REPORTS)
@require_GET
def revenue_report(request: HttpRequest) -> HttpResponse:
    form = _report_form(request)
    context: dict[str, Any] = {"form": form, "summary": None}
    if form.is_valid():
        query = urlencode(
            {
                key: value.isoformat() if isinstance(value, date) else value
                for key, value in form.cleaned_data.items()
            }
        )
        context.update(
            summary=_summary(form),
            group_label=GROUP_LABELS[form.cleaned_data["group_by"]],
            csv_url=f"{reverse('payments:revenue_report_csv')}?{query}",
            xlsx_url=f"{reverse('payments:revenue_report_xlsx')}?{query}",
        )
    return render(request, "payments/report_revenue.html", context)


def _download(request: HttpRequest, extension: str) -> HttpResponse:
    form = _report_form(request)
    if not form.is_valid():
        return render(
            request,
            "payments/report_revenue.html",
            {"form": form, "summary": None},
            status=400,
        )
    summary = _summary(form)
    if extension == "csv":
        content, content_type = (
            report_files.render_revenue_csv(summary),
            report_files.CSV_CONTENT_TYPE,
        )
    else:
        content = report_files.render_revenue_xlsx(summary)
        content_type = report_files.XLSX_CONTENT_TYPE
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="{report_files.file_name(summary, extension)}"'
    )
    return response


@staff_required(VIEW_REPORTS)
@require_GET
def revenue_report_csv(request: HttpRequest) -> HttpResponse:
    return _download(request, "csv")


@staff_required(VIEW_REPORTS)
@require_GET
def revenue_report_xlsx(request: HttpRequest) -> HttpResponse:
    return _download(request, "xlsx")


urlpatterns: list[URLPattern] = [
    path("staff/reports/", revenue_dashboard, name="revenue_dashboard"),
    path("staff/reports/revenue/", revenue_report, name="revenue_report"),
    path("staff/reports/revenue.csv", revenue_report_csv, name="revenue_report_csv"),
    path("staff/reports/revenue.xlsx", revenue_report_xlsx, name="revenue_report_xlsx"),
]
