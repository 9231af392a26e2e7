"""Money in templates: `{{ bill.balance|kes }}` -> "KES 1,234.50"; `|amount` -> "1,234.50".

Built in (settings.TEMPLATES), so every template writes money the one way
`kaunti.core.money` does, whatever the page's language. `|amount` is for table cells
whose heading already says "(KES)".
"""

from decimal import Decimal

from django import template

from kaunti.core.money import format_amount, format_kes

register = template.Library()


@register.filter
def kes(value: Decimal | int | str | None) -> str:
    """An amount with its currency; empty for no amount (a template shows its own dash)."""
    return "" if value is None or value == "" else format_kes(value)


@register.filter
def amount(value: Decimal | int | str | None) -> str:
    """An amount without its currency, for a column headed "(KES)"."""
    return "" if value is None or value == "" else format_amount(value)
