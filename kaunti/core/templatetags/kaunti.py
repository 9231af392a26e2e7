"""Template helpers for GOV.UK form markup."""

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def govuk_widget(field: BoundField) -> SafeString:
    """Render a field's input pointing at its hint and error messages (aria-describedby)."""
    if getattr(field.field.widget, "is_govuk_date", False):
        # The date's fieldset carries the hint and error; its boxes only say they are wrong.
        return field.as_widget(attrs={"aria-invalid": "true"} if field.errors else {})
    described_by = []
    if field.help_text:
        described_by.append(f"{field.auto_id}-hint")
    if field.errors:
        described_by.append(f"{field.auto_id}-error")
    attrs: dict[str, str | bool] = (
        {"aria-describedby": " ".join(described_by)} if described_by else {}
    )
    classes = field.field.widget.attrs.get("class", "")
    if field.errors and "govuk-input" in classes:
        attrs["class"] = f"{classes} govuk-input--error"
    return field.as_widget(attrs=attrs)
