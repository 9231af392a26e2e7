"""The kernel's public forms."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kaunti.core.documents import CODE_ALPHABET, CODE_LENGTH

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
