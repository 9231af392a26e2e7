"""Number fields for forms and API input that read ASCII digits only.

Django's and DRF's DecimalField and IntegerField hand the text to Decimal() or int(),
which read every Unicode digit: 100 written in full-width or Arabic-Indic digits would be
taken as 100. Kaunti's numbers are written 0 to 9, so anything else is refused with
the field's own "invalid" message, in the user's language, before it becomes a number.
"""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from kaunti.core.identifiers import normalise_phone


def _has_other_characters(value: Any) -> bool:
    """Text with anything outside ASCII in it (every digit but 0-9 is)."""
    return isinstance(value, str) and not value.isascii()


class AsciiDecimalField(forms.DecimalField):
    def to_python(self, value: Any) -> Any:
        if _has_other_characters(value):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class AsciiIntegerField(forms.IntegerField):
    def to_python(self, value: Any) -> Any:
        if _has_other_characters(value):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class AsciiDecimalInput(serializers.DecimalField):
    def to_internal_value(self, data: Any) -> Any:
        if _has_other_characters(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class AsciiIntegerInput(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> Any:
        if _has_other_characters(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class PhoneField(forms.CharField):
    """A Kenyan mobile number, cleaned to `2547XXXXXXXX`."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Mobile phone number"))
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("error_messages", {"required": _("Enter your mobile phone number.")})
        super().__init__(**kwargs)
        self.widget.attrs.update(
            {
                "autocomplete": "tel",
                "inputmode": "tel",
                "class": "govuk-input govuk-input--width-20",
            }
        )

    def clean(self, value: Any) -> str:
        return normalise_phone(super().clean(value))
