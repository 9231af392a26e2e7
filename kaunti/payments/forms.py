"""Forms of the payments pages: they check the shape of what was typed, nothing more.

Which bill, till or receipt a person may act on, and every rule about money, is decided
by the services; a `ValidationError` from a service is put back on the form.
"""

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from kaunti.core.fields import AsciiDecimalField, PhoneField
from kaunti.core.models import Department, Ward
from kaunti.core.money import format_amount
from kaunti.payments.models import BillStatus, RevenueStream
from kaunti.payments.numbering import normalise_bill_number
from kaunti.payments.services.bills import LineInput
from kaunti.payments.services.counter import BANKS

INPUT = "govuk-input"
SELECT = "govuk-select"


def _money_field(
    label: Any, *, required: bool = True, min_value: str = "0.01"
) -> forms.DecimalField:
    return AsciiDecimalField(
        label=label,
        required=required,
        max_digits=14,
        decimal_places=2,
        min_value=Decimal(min_value),
        error_messages={
            "required": _("Enter the amount in shillings."),
            "invalid": _("Enter an amount in shillings, like 1500 or 1500.50."),
            "max_decimal_places": _("Enter the amount to the cent at most, like 1500.50."),
            "min_value": _("Enter an amount of at least KES %(limit_value)s."),
        },
        widget=forms.TextInput(
            attrs={
                "class": f"{INPUT} govuk-input--width-10",
                "inputmode": "decimal",
                "spellcheck": "false",
            }
        ),
    )


def _bill_number_field(label: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=20,
        error_messages={"required": _("Enter the bill number.")},
        widget=forms.TextInput(
            attrs={
                "class": f"{INPUT} govuk-input--width-10 govuk-input--extra-letter-spacing",
                "autocapitalize": "characters",
                "spellcheck": "false",
            }
        ),
    )


# --- Bills ------------------------------------------------------------------------------


class BillSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Bill number, payer's name or phone"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"class": INPUT, "type": "search", "spellcheck": "false"}),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *BillStatus.choices],
        widget=forms.Select(attrs={"class": SELECT}),
    )


class MiscellaneousBillForm(forms.Form):
    """Payer, ward and up to LINE_COUNT price-list items; rows left empty are ignored."""

    LINE_COUNT = 3

    payer_name = forms.CharField(
        label=_("Payer's full name"),
        max_length=150,
        error_messages={"required": _("Enter the payer's name.")},
        widget=forms.TextInput(attrs={"class": INPUT, "autocomplete": "off"}),
    )
    payer_phone = forms.CharField(
        label=_("Payer's mobile phone number (optional)"),
        help_text=_("The receipt is sent to this number by SMS."),
        required=False,
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "class": f"{INPUT} govuk-input--width-20",
                "inputmode": "tel",
                "autocomplete": "off",
            }
        ),
    )
    payer_id_number = forms.CharField(
        label=_("Payer's national ID number (optional)"),
        required=False,
        max_length=20,
        widget=forms.TextInput(
            attrs={"class": f"{INPUT} govuk-input--width-10", "inputmode": "numeric"}
        ),
    )
    ward = forms.ModelChoiceField(
        label=_("Ward (optional)"),
        required=False,
        queryset=Ward.objects.none(),
        empty_label=_("Not in a ward"),
        widget=forms.Select(attrs={"class": SELECT}),
    )

    def __init__(
        self,
        *args: Any,
        streams: QuerySet[RevenueStream],
        wards: QuerySet[Ward],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        ward_field = self.fields["ward"]
        assert isinstance(ward_field, forms.ModelChoiceField)
        ward_field.queryset = wards
        choices: list[tuple[str, str]] = [("", str(_("Choose an item")))]
        for stream in streams:
            price = (
                _("KES %(price)s %(unit)s")
                % {"price": format_amount(stream.unit_price), "unit": stream.localized_unit}
                if stream.unit_price is not None
                else _("price to be entered")
            )
            choices.append((stream.code, f"{stream.localized_name} ({price})"))
        for number in range(1, self.LINE_COUNT + 1):
            self.fields[f"stream_{number}"] = forms.ChoiceField(
                label=_("Item %(number)s") % {"number": number},
                required=number == 1,
                choices=choices,
                error_messages={"required": _("Choose the item to charge.")},
                widget=forms.Select(attrs={"class": SELECT}),
            )
            self.fields[f"quantity_{number}"] = AsciiDecimalField(
                label=_("Quantity of item %(number)s") % {"number": number},
                required=False,
                max_digits=12,
                decimal_places=2,
                min_value=Decimal("0.01"),
                error_messages={
                    "invalid": _("Enter the quantity as a number, like 3 or 2.5."),
                    "min_value": _("Enter a quantity of more than 0."),
                },
                widget=forms.TextInput(
                    attrs={"class": f"{INPUT} govuk-input--width-5", "inputmode": "decimal"}
                ),
            )
            price_field = _money_field(
                _("Unit price of item %(number)s, in KES (only if the price list has none)")
                % {"number": number},
                required=False,
            )
            self.fields[f"price_{number}"] = price_field

    def line_rows(self) -> list[tuple[forms.BoundField, forms.BoundField, forms.BoundField]]:
        """The item rows as (item, quantity, price) bound fields, for the template."""
        return [
            (self[f"stream_{n}"], self[f"quantity_{n}"], self[f"price_{n}"])
            for n in range(1, self.LINE_COUNT + 1)
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for number in range(1, self.LINE_COUNT + 1):
            stream = cleaned.get(f"stream_{number}")
            typed = cleaned.get(f"quantity_{number}") or cleaned.get(f"price_{number}")
            if not stream and typed:
                self.add_error(f"stream_{number}", _("Choose the item to charge."))
        return cleaned

    def lines(self) -> list[LineInput]:
        """The filled rows as bill lines (quantity 1 when left empty)."""
        lines = []
        for number in range(1, self.LINE_COUNT + 1):
            code = self.cleaned_data.get(f"stream_{number}")
            if code:
                lines.append(
                    LineInput(
                        stream_code=code,
                        quantity=self.cleaned_data.get(f"quantity_{number}") or Decimal(1),
                        unit_price=self.cleaned_data.get(f"price_{number}"),
                    )
                )
        return lines


class AssignSuspenseForm(forms.Form):
    bill_number = _bill_number_field(_("Number of the bill this payment is for"))

    def clean_bill_number(self) -> str:
        return normalise_bill_number(self.cleaned_data["bill_number"])


# --- Counter ----------------------------------------------------------------------------


class OpenTillForm(forms.Form):
    department = forms.ModelChoiceField(
        label=_("Counter of"),
        queryset=Department.objects.none(),
        empty_label=None,
        widget=forms.Select(attrs={"class": SELECT}),
    )
    opening_float = _money_field(_("Opening float, in KES"), min_value="0")

    def __init__(self, *args: Any, departments: QuerySet[Department], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["department"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = departments
        self.fields["opening_float"].help_text = _("The change counted into the drawer.")


class BillLookupForm(forms.Form):
    bill = _bill_number_field(_("Bill number"))

    def clean_bill(self) -> str:
        return normalise_bill_number(self.cleaned_data["bill"])


class CounterPaymentForm(forms.Form):
    METHODS = [
        ("cash", _("Cash")),
        ("bank", _("Bank deposit slip")),
        ("cheque", _("Cheque")),
    ]

    token = forms.CharField(widget=forms.HiddenInput, max_length=64)
    amount = _money_field(_("Amount received, in KES"))
    method = forms.ChoiceField(
        label=_("How is the payer paying?"),
        choices=METHODS,
        error_messages={"required": _("Choose how the payer is paying.")},
        widget=forms.RadioSelect,
    )
    bank = forms.ChoiceField(
        label=_("Bank"),
        required=False,
        choices=[("", _("Choose the bank")), *BANKS],
        widget=forms.Select(attrs={"class": SELECT}),
    )
    reference = forms.CharField(
        label=_("Slip or cheque number"),
        required=False,
        max_length=40,
        widget=forms.TextInput(
            attrs={
                "class": f"{INPUT} govuk-input--width-20",
                "spellcheck": "false",
                "autocomplete": "off",
            }
        ),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("method") in ("bank", "cheque"):
            if not cleaned.get("bank"):
                self.add_error("bank", _("Choose the bank."))
            if not cleaned.get("reference", "").strip():
                self.add_error("reference", _("Enter the slip or cheque number."))
        return cleaned


class CloseTillForm(forms.Form):
    counted_cash = _money_field(_("Cash counted in the drawer, in KES"), min_value="0")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["counted_cash"].help_text = _("Count everything, the float included.")


class CancelReceiptForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the receipt being cancelled?"),
        max_length=255,
        error_messages={"required": _("Give the reason for cancelling the receipt.")},
        widget=forms.Textarea(attrs={"class": "govuk-textarea", "rows": 3}),
    )
    requested_by = forms.CharField(
        label=_("Username of the staff member who asked for the cancellation"),
        help_text=_(
            "Usually the cashier who issued the receipt. You cannot approve your own request."
        ),
        max_length=150,
        error_messages={"required": _("Enter the username of the person who asked.")},
        widget=forms.TextInput(
            attrs={
                "class": f"{INPUT} govuk-input--width-20",
                "spellcheck": "false",
                "autocomplete": "off",
            }
        ),
    )


class FindReceiptForm(forms.Form):
    receipt = forms.CharField(
        label=_("Receipt number"),
        max_length=20,
        error_messages={"required": _("Enter the receipt number.")},
        widget=forms.TextInput(
            attrs={
                "class": f"{INPUT} govuk-input--width-20",
                "spellcheck": "false",
                "autocapitalize": "characters",
            }
        ),
    )

    def clean_receipt(self) -> str:
        return str(self.cleaned_data["receipt"]).strip().upper()


# --- Citizens ---------------------------------------------------------------------------


class PayWithMpesaForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)
    phone = PhoneField(
        label=_("M-Pesa phone number"),
        help_text=_("We will send a payment request to this phone."),
        error_messages={"required": _("Enter the M-Pesa phone number.")},
    )
