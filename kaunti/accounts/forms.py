"""Forms validate shape and normalise identifiers; services decide everything else."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kaunti.core.fields import PhoneField
from kaunti.core.identifiers import is_ascii_digits


class SignUpForm(forms.Form):
    full_name = forms.CharField(
        label=_("Full name"),
        max_length=150,
        error_messages={"required": _("Enter your full name.")},
        widget=forms.TextInput(attrs={"autocomplete": "name", "class": "govuk-input"}),
    )
    phone = PhoneField(help_text=_("We will send a 6-digit code to this number."))
    consent = forms.BooleanField(
        label=_(
            "I agree that the county may process my personal data as the privacy notice explains."
        ),
        error_messages={
            "required": _("You must agree to the privacy notice to create an account.")
        },
        widget=forms.CheckboxInput(attrs={"class": "govuk-checkboxes__input"}),
    )


class SignInForm(forms.Form):
    phone = PhoneField(help_text=_("We will send a 6-digit code to this number."))


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the SMS"),
        max_length=10,
        error_messages={"required": _("Enter the 6-digit code from the SMS.")},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "class": "govuk-input govuk-input--width-5",
            }
        ),
    )

    def clean_code(self) -> str:
        # Whatever separates the digits is dropped; a digit other than 0-9 (full-width,
        # Arabic-Indic: str.isdigit() takes them) makes it not the code we sent.
        code = "".join(ch for ch in self.cleaned_data["code"] if ch.isdigit())
        if not (len(code) == 6 and is_ascii_digits(code)):
            raise ValidationError(_("The code is 6 digits, like 123456."))
        return code


class StaffPasswordForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        error_messages={"required": _("Enter your username.")},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "username",
                "class": "govuk-input govuk-input--width-20",
                "spellcheck": "false",
            }
        ),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        error_messages={"required": _("Enter your password.")},
        widget=forms.PasswordInput(
            attrs={"autocomplete": "current-password", "class": "govuk-input govuk-input--width-20"}
        ),
    )


class StaffTokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=8,
        error_messages={"required": _("Enter the 6-digit code from your authenticator app.")},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "class": "govuk-input govuk-input--width-5",
            }
        ),
    )


class ProfileForm(forms.Form):
    full_name = forms.CharField(
        label=_("Full name"),
        max_length=150,
        error_messages={"required": _("Enter your full name.")},
        widget=forms.TextInput(attrs={"autocomplete": "name", "class": "govuk-input"}),
    )
    national_id = forms.CharField(
        label=_("National ID number (optional)"),
        required=False,
        max_length=20,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "class": "govuk-input govuk-input--width-10"}
        ),
    )
    kra_pin = forms.CharField(
        label=_("KRA PIN (optional)"),
        required=False,
        max_length=20,
        widget=forms.TextInput(
            attrs={"class": "govuk-input govuk-input--width-10", "spellcheck": "false"}
        ),
    )
    email = forms.EmailField(
        label=_("Email (optional)"),
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "class": "govuk-input"}),
    )


class LanguageForm(forms.Form):
    language = forms.ChoiceField(choices=settings.LANGUAGES)
    next = forms.CharField(required=False, max_length=500)
