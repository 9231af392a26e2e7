"""Template helpers for GOV.UK form markup."""

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def govuk_widget(field: BoundField) -> SafeString:
    """Render a field's input pointing at its hint and error messages (aria-describedby)."""
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
