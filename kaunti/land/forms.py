"""Forms of the land pages: they check the shape of what was typed, nothing more.

Every rule about parcels, shares, rolls and money is the domain services'; a service's
`ValidationError` is put back on the form with `kaunti.core.forms.apply_service_errors`.
"""

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kaunti.core.fields import AsciiDecimalField, AsciiIntegerField
from kaunti.core.forms import GovukDateField
from kaunti.core.selectors import list_wards
from kaunti.land.models import LandUse, ObjectionStatus, OwnerKind
from kaunti.land.selectors.parcels import RatesStatus, parcel_number_example

INPUT = "govuk-input"
SELECT = "govuk-select"
TEXTAREA = "govuk-textarea"
ROLL_UPLOAD_MAX_BYTES = 20 * 1024 * 1024


def _text(
    label: Any, *, required: bool = True, max_length: int = 150, **attrs: Any
) -> forms.CharField:
    css = attrs.pop("css", INPUT)
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        widget=forms.TextInput(attrs={"class": css, "spellcheck": "false", **attrs}),
    )


def _date(label: Any, *, required: bool = True, help_text: Any = "") -> GovukDateField:
    return GovukDateField(label=label, required=required, help_text=help_text)


def _money(label: Any, *, required: bool = True) -> forms.DecimalField:
    return AsciiDecimalField(
        label=label,
        required=required,
        max_digits=14,
        decimal_places=2,
        min_value=Decimal(0),
        error_messages={"invalid": _("Enter an amount in shillings, like 1500 or 1500.50.")},
        widget=forms.TextInput(
            attrs={"class": f"{INPUT} govuk-input--width-10", "inputmode": "decimal"}
        ),
    )


def _percent(label: Any) -> forms.DecimalField:
    return AsciiDecimalField(
        label=label,
        max_digits=7,
        decimal_places=4,
        min_value=Decimal(0),
        max_value=Decimal(100),
        error_messages={"invalid": _("Enter a percentage, like 0.5 or 1.")},
        widget=forms.TextInput(
            attrs={"class": f"{INPUT} govuk-input--width-5", "inputmode": "decimal"}
        ),
    )


def _year(label: Any) -> forms.IntegerField:
    return AsciiIntegerField(
        label=label,
        min_value=1990,
        max_value=2200,
        help_text=_("The year it starts in: 2026 for July 2026 to June 2027."),
        error_messages={"invalid": _("Enter the year the financial year starts in, like 2026.")},
        widget=forms.TextInput(
            attrs={"class": f"{INPUT} govuk-input--width-4", "inputmode": "numeric"}
        ),
    )


def _ward_choices() -> list[tuple[str, str]]:
    return [("", str(_("Any ward")))] + [
        (ward.code, ward.name) for ward in list_wards().order_by("name")
    ]


# --- Parcels ------------------------------------------------------------------------------


class ParcelSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Parcel number, owner's name, national ID or KRA PIN"),
        help_text=_("Part of a parcel number will do, with or without spaces: OLKALOU/12."),
        required=False,
        max_length=120,
        widget=forms.TextInput(attrs={"class": INPUT, "type": "search", "spellcheck": "false"}),
    )
    ward = forms.ChoiceField(
        label=_("Ward"), required=False, widget=forms.Select(attrs={"class": SELECT})
    )
    status = forms.ChoiceField(
        label=_("Rates status"),
        required=False,
        choices=[("", _("Any status")), *RatesStatus.choices()],
        widget=forms.Select(attrs={"class": SELECT}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ward"].choices = _ward_choices()  # type: ignore[attr-defined]


class TransferForm(forms.Form):
    """A registered transfer to up to OWNER_ROWS new owners; empty rows are ignored."""

    OWNER_ROWS = 3

    instrument = _text(
        _("Transfer instrument number"), max_length=80, css=f"{INPUT} govuk-input--width-20"
    )
    registered_on = _date(_("Date registered"))
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=255,
        widget=forms.Textarea(attrs={"class": TEXTAREA, "rows": 2}),
    )
    document_title = _text(_("Document title (optional)"), required=False)
    document = forms.FileField(
        label=_("Transfer document (optional)"),
        required=False,
        help_text=_("A PDF, JPEG or PNG file, up to 10 MB."),
        widget=forms.ClearableFileInput(attrs={"class": "govuk-file-upload"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for row in range(1, self.OWNER_ROWS + 1):
            self.fields[f"owner{row}_kind"] = forms.ChoiceField(
                label=_("Owner %(row)s: kind") % {"row": row},
                required=False,
                choices=OwnerKind.choices,
                widget=forms.Select(attrs={"class": SELECT}),
            )
            self.fields[f"owner{row}_name"] = _text(
                _("Owner %(row)s: full name or organisation name") % {"row": row},
                required=row == 1,
            )
            self.fields[f"owner{row}_national_id"] = _text(
                _("Owner %(row)s: national ID number") % {"row": row},
                required=False,
                max_length=20,
                css=f"{INPUT} govuk-input--width-10",
                inputmode="numeric",
            )
            self.fields[f"owner{row}_kra_pin"] = _text(
                _("Owner %(row)s: KRA PIN") % {"row": row},
                required=False,
                max_length=11,
                css=f"{INPUT} govuk-input--width-10",
            )
            self.fields[f"owner{row}_share"] = _text(
                _("Owner %(row)s: share of the parcel") % {"row": row},
                required=False,
                max_length=12,
                css=f"{INPUT} govuk-input--width-5",
                placeholder="1/1",
            )
            self.fields[f"owner{row}_share"].help_text = _(
                "A fraction: 1/1 for a sole owner, 1/2 each for two equal owners."
            )

    def owner_rows(self) -> list[list[forms.BoundField]]:
        names = ("kind", "name", "national_id", "kra_pin", "share")
        return [
            [self[f"owner{row}_{name}"] for name in names] for row in range(1, self.OWNER_ROWS + 1)
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        owners = []
        for row in range(1, self.OWNER_ROWS + 1):
            name = (cleaned.get(f"owner{row}_name") or "").strip()
            if not name:
                continue
            share_text = (cleaned.get(f"owner{row}_share") or "1/1").replace(" ", "")
            try:
                numerator_text, denominator_text = [*share_text.split("/"), "1"][:2]
                numerator, denominator = int(numerator_text), int(denominator_text)
            except ValueError:
                self.add_error(f"owner{row}_share", _("Write the share as a fraction, like 1/2."))
                continue
            owners.append(
                {
                    "kind": cleaned.get(f"owner{row}_kind") or OwnerKind.INDIVIDUAL,
                    "name": name,
                    "national_id": cleaned.get(f"owner{row}_national_id") or "",
                    "kra_pin": cleaned.get(f"owner{row}_kra_pin") or "",
                    "numerator": numerator,
                    "denominator": denominator,
                    "row": row,
                }
            )
        cleaned["owners"] = owners
        return cleaned


def _spreadsheet(upload: Any) -> Any:
    """A CSV file or an Excel workbook of at most 20 MB (its rows are the service's)."""
    name = (upload.name or "").lower()
    if not name.endswith((".csv", ".xlsx")):
        raise ValidationError(_("Upload a CSV file or an Excel (.xlsx) workbook."))
    if (upload.size or 0) > ROLL_UPLOAD_MAX_BYTES:
        raise ValidationError(_("The file is larger than 20 MB."))
    return upload


# --- Rolls --------------------------------------------------------------------------------


class RollCreateForm(forms.Form):
    name = _text(_("Name of the roll"), max_length=100)
    valuation_date = _date(_("Valuation date"))


class RollImportForm(forms.Form):
    file = forms.FileField(
        label=_("Roll file (CSV or Excel)"),
        help_text=_(
            "Columns: parcel_number, site_value and, optionally, valuation_date "
            "(YYYY-MM-DD). Every row that cannot be used is listed with the reason."
        ),
        widget=forms.ClearableFileInput(
            attrs={"class": "govuk-file-upload", "accept": ".csv,.xlsx,text/csv"}
        ),
    )

    def clean_file(self) -> Any:
        return _spreadsheet(self.cleaned_data["file"])


class LegacyImportForm(forms.Form):
    file = forms.FileField(
        label=_("Legacy export (CSV or Excel)"),
        help_text=_(
            "Columns: parcel_number, ward_code, area_hectares, land_use, owner_name, "
            "national_id or kra_pin, and optionally tenure, zone, owner_kind, shares, phone, "
            "arrears. Parcels already registered are reported, not imported twice."
        ),
        widget=forms.ClearableFileInput(
            attrs={"class": "govuk-file-upload", "accept": ".csv,.xlsx,text/csv"}
        ),
    )

    def clean_file(self) -> Any:
        return _spreadsheet(self.cleaned_data["file"])


class ObjectionForm(forms.Form):
    parcel_number = _text(_("Parcel number"), max_length=120)
    objector_name = _text(_("Objector's name"))
    grounds = forms.CharField(
        label=_("Grounds of the objection"),
        max_length=4000,
        widget=forms.Textarea(attrs={"class": TEXTAREA, "rows": 4}),
    )
    proposed_value = _money(_("Value the objector proposes, KES (optional)"), required=False)


class ObjectionDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (ObjectionStatus.UPHELD, _("Uphold: change the site value")),
            (ObjectionStatus.DISMISSED, _("Dismiss: keep the site value")),
        ],
        widget=forms.RadioSelect(attrs={"class": "govuk-radios__input"}),
    )
    decided_value = _money(_("New site value, KES (when upheld)"), required=False)
    reason = forms.CharField(
        label=_("Reason for the decision"),
        max_length=4000,
        widget=forms.Textarea(attrs={"class": TEXTAREA, "rows": 3}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (
            cleaned.get("decision") == ObjectionStatus.UPHELD
            and cleaned.get("decided_value") is None
        ):
            self.add_error("decided_value", _("Enter the new site value."))
        return cleaned


class ConfirmForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I have checked the roll and the objections are decided"),
        error_messages={"required": _("Confirm that you have checked the roll.")},
        widget=forms.CheckboxInput(attrs={"class": "govuk-checkboxes__input"}),
    )


# --- Rating -------------------------------------------------------------------------------


class RatingYearForm(forms.Form):
    financial_year = _year(_("Financial year"))
    due_on = _date(_("Rates due on"))
    penalty_percent_per_month = _percent(_("Penalty on arrears (percent a month)"))


class RatingRuleForm(forms.Form):
    financial_year = _year(_("Financial year"))
    land_use = forms.ChoiceField(
        label=_("Land use"),
        required=False,
        widget=forms.Select(attrs={"class": SELECT}),
    )
    zone = _text(_("Rating zone (optional)"), required=False, max_length=40,
                 css=f"{INPUT} govuk-input--width-10")  # fmt: skip
    rate_percent = _percent(_("Rate (percent of site value)"))
    minimum_charge = _money(_("Minimum charge, KES"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["land_use"].choices = [("", _("Any land use")), *LandUse.choices]  # type: ignore[attr-defined]


class WaiverCampaignForm(forms.Form):
    name = _text(_("Campaign name"))
    starts_on = _date(_("Starts on"))
    ends_on = _date(_("Ends on"))


# --- Billing ------------------------------------------------------------------------------


class StartBillingForm(forms.Form):
    financial_year = _year(_("Financial year to bill"))


class PenaltyRunForm(forms.Form):
    month = forms.CharField(
        label=_("Month"),
        help_text=_("The month the penalty is for, like 2026-10."),
        max_length=7,
        widget=forms.TextInput(attrs={"class": f"{INPUT} govuk-input--width-5", "type": "month"}),
    )

    def clean_month(self) -> Any:
        text = self.cleaned_data["month"].strip()
        try:
            year_text, month_text = text.split("-")
            return date(int(year_text), int(month_text), 1)
        except ValueError as exc:
            raise ValidationError(_("Enter the month like 2026-10.")) from exc


# --- The public balance check -------------------------------------------------------------


class BalanceCheckForm(forms.Form):
    number = forms.CharField(
        label=_("Parcel number"),
        max_length=120,
        error_messages={"required": _("Enter the parcel number.")},
        widget=forms.TextInput(
            attrs={"class": INPUT, "spellcheck": "false", "autocapitalize": "characters"}
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The example is a number of this register, so the hint shows the real format.
        self.fields["number"].help_text = _(
            "As on the title deed: county, registration section and number, like %(example)s."
        ) % {"example": parcel_number_example()}
