"""The kernel's public forms: the code a person types to check a document, the GOV.UK
date input (day, month and year boxes) every app shares, and `apply_service_errors`, which
puts a service's refusal on any form.

A browser's own date picker shows its locale's order (mm/dd/yyyy on most phones here),
and people in Kenya write the day first. The GOV.UK pattern asks for the three parts in
separate boxes, labelled, in the order a Kenyan reads them, and keeps what was typed when
the form comes back with an error.
"""

from datetime import date, datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kaunti.core.services.documents import CODE_ALPHABET, CODE_LENGTH

MALFORMED_CODE = _(
    "A verification code has 13 letters and numbers, such as 4KTXMWQ9HC3FA: "
    "check what you typed against the document"
)


class VerifyCodeForm(forms.Form):
    """The code printed under a receipt's or permit's QR code, as a person types it."""

    code = forms.CharField(
        label=_("Verification code"),
        help_text=_("Printed under the QR code. Spaces and capital letters do not matter."),
        max_length=40,
        error_messages={
            "required": _("Enter the verification code from the document"),
            "max_length": MALFORMED_CODE,
            "null_characters_not_allowed": MALFORMED_CODE,
        },
        widget=forms.TextInput(
            attrs={
                "class": "govuk-input govuk-input--width-20 govuk-input--extra-letter-spacing",
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
            }
        ),
    )

    def clean_code(self) -> str:
        # Codes are printed in one block but often typed in groups ("4KTX MWQ9 ..."); only
        # ASCII letters of the code's own alphabet count, so look-alikes such as O and 0 or
        # other scripts' characters are mistypes, not a different code.
        typed: str = self.cleaned_data["code"]
        code = typed.replace(" ", "").replace("-", "").upper()
        if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
            raise ValidationError(MALFORMED_CODE, code="malformed")
        return code


DATE_PARTS = ("day", "month", "year")


def _parts_of(value: object) -> list[str]:
    """A date (or an ISO "2026-12-07" string) as its day, month and year texts."""
    if isinstance(value, str) and value:
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return ["", "", ""]
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return [str(value.day), str(value.month), str(value.year)]
    return ["", "", ""]


class GovukDateWidget(forms.MultiWidget):
    """Three numeric boxes, `<name>_day`, `<name>_month`, `<name>_year`, in that order."""

    template_name = "core/widgets/govuk_date.html"
    is_govuk_date = True

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        def box(width: int) -> forms.TextInput:
            return forms.TextInput(
                attrs={
                    "class": f"govuk-input govuk-date-input__input govuk-input--width-{width}",
                    "inputmode": "numeric",
                    "spellcheck": "false",
                }
            )

        super().__init__({"day": box(2), "month": box(2), "year": box(4)}, attrs)

    def id_for_label(self, id_: str) -> str:
        # An error summary's link lands on the day box, the first of the three.
        return f"{id_}_day" if id_ else ""

    def decompress(self, value: object) -> list[str]:
        return _parts_of(value)

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        # A link or a bookmark may still carry the whole date as one ISO value
        # (?as_of=2026-12-07); the boxes win when the form sent them.
        if name in data and not any(f"{name}_{part}" in data for part in DATE_PARTS):
            return data[name]
        return super().value_from_datadict(data, files, name)

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data and super().value_omitted_from_data(data, files, name)

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        labels = (_("Day"), _("Month"), _("Year"))
        for subwidget, label in zip(context["widget"]["subwidgets"], labels, strict=True):
            subwidget["label"] = label
            if subwidget["attrs"].get("aria-invalid") == "true":
                subwidget["attrs"]["class"] += " govuk-input--error"
        return context


class GovukDateField(forms.Field):
    """A date typed as day, month and year; ASCII digits only, and a date that exists."""

    widget = GovukDateWidget
    default_error_messages = {
        "required": _("Enter a date."),
        "incomplete": _("The date must include a day, a month and a year."),
        "invalid": _("Enter a real date, for example 7 12 2026."),
    }

    def to_python(self, value: Any) -> date | None:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            # One value (a link's ?as_of=2026-12-07, or 07/12/2026 typed by hand).
            for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
                try:
                    return datetime.strptime(value, pattern).date()
                except ValueError:
                    continue
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        parts = [str(part or "").strip() for part in (value or ("", "", ""))]
        if not any(parts):
            return None
        if not all(parts):
            raise ValidationError(self.error_messages["incomplete"], code="incomplete")
        # str.isdigit() accepts other scripts' digits ("٣"): the county's records take ASCII.
        if not all(part.isascii() and part.isdigit() for part in parts) or len(parts[2]) != 4:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        day, month, year = (int(part) for part in parts)
        try:
            return date(year, month, day)
        except ValueError as exc:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from exc


class GovukDateAnswerField(GovukDateField):
    """The same boxes for an answer stored as text: the cleaned value is an ISO date or ""."""

    def clean(self, value: Any) -> str:
        day = super().clean(value)
        return day.isoformat() if day else ""


def apply_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's refusal on the form: on its field when the form has one, else on top."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            for message in messages:
                form.add_error(field if field in form.fields else None, message)
    else:
        for message in error.messages:
            form.add_error(None, message)
