"""Template helpers for GOV.UK form markup and wide tables."""

import re

from django import template
from django.forms import BoundField
from django.template.base import FilterExpression, Parser, Token
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

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


# --- Wide tables ------------------------------------------------------------------------------

_CAPTION = re.compile(r"<caption\b([^>]*)>")
_ID = re.compile(r'\bid="([^"]+)"')


class TableRegionNode(template.Node):
    def __init__(self, nodelist: template.NodeList, label: FilterExpression | None) -> None:
        self.nodelist = nodelist
        self.label = label

    def render(self, context: template.Context) -> str:
        inner = str(self.nodelist.render(context))
        counter = int(context.render_context.get(self) or 0) + 1
        context.render_context[self] = counter
        if self.label is not None:
            name = format_html('aria-label="{}"', self.label.resolve(context))
        elif caption := _CAPTION.search(inner):
            # The table's own caption names the region (and says the same to everyone).
            given_id = _ID.search(caption.group(1))
            caption_id = given_id.group(1) if given_id else f"table-caption-{id(self):x}-{counter}"
            if not given_id:
                inner = _CAPTION.sub(f'<caption id="{caption_id}"\\1>', inner, count=1)
            name = format_html('aria-labelledby="{}"', caption_id)
        else:
            # A template's mistake, not the reader's: still named, never a server error.
            name = format_html('aria-label="{}"', gettext("Table"))
        return format_html(
            '<div class="kaunti-table-scroll" role="region" {} tabindex="0">{}</div>',
            name,
            mark_safe(inner),  # noqa: S308  (the template's own rendered output)
        )


@register.tag("table_region")
def table_region(parser: Parser, token: Token) -> TableRegionNode:
    """`{% table_region [label] %}<table>...</table>{% endtable_region %}`: a wide table
    scrolls sideways inside its own region on a phone, not the whole page (WCAG 1.4.10);
    the region is named (by `label`, else the table's caption) and takes the keyboard's
    focus, so it can be scrolled without a mouse."""
    bits = token.split_contents()
    if len(bits) > 2:
        raise template.TemplateSyntaxError("table_region takes at most one label")
    label = parser.compile_filter(bits[1]) if len(bits) == 2 else None
    nodelist = parser.parse(("endtable_region",))
    parser.delete_first_token()
    return TableRegionNode(nodelist, label)
