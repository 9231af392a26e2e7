"""One money format on every page, PDF, SMS and USSD screen, in English and Kiswahili."""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.template import Context, Engine
from django.utils import translation

from kaunti.core.money import format_amount, format_kes
from kaunti.core.services.notifications import _render

KAUNTI = Path(__file__).resolve().parents[2]


def test_amounts_are_written_with_comma_thousands_and_two_places() -> None:
    assert format_kes(Decimal("3500")) == "KES 3,500.00"
    assert format_kes(Decimal("343000000")) == "KES 343,000,000.00"
    assert format_kes(Decimal("999.5")) == "KES 999.50"
    assert format_amount(Decimal("-1234567.891")) == "-1,234,567.89"
    assert format_amount(3500) == "3,500.00"


@pytest.mark.parametrize("language", ["en", "sw"])
def test_templates_write_money_the_same_way_in_both_languages(language: str) -> None:
    template = Engine.get_default().from_string(
        "{{ balance|kes }} / {{ balance|amount }} / {{ nothing|kes }}."
    )
    with translation.override(language):
        text = template.render(Context({"balance": Decimal("343000000"), "nothing": None}))
    assert text == "KES 343,000,000.00 / 343,000,000.00 / ."


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Received KES 3,500.00 for bill B-1. Receipt R-1. Balance KES 12,000.00."),
        ("sw", "Tumepokea KES 3,500.00 kwa bili B-1. Risiti R-1. Salio KES 12,000.00."),
    ],
)
def test_payment_sms_writes_money_with_separators(language: str, expected: str) -> None:
    context = {
        "amount": Decimal("3500"),
        "bill": "B-1",
        "receipt": "R-1",
        "balance": Decimal("12000"),
        "credit": Decimal("0"),
    }
    assert _render("payment_received", language, context)[1].startswith(expected)


# Money written by hand: `KES {{ x }}` or a number format in a template, `:,.2f` in Python.
HAND_FORMATTED = [
    (re.compile(r'floatformat:"?2'), "*.html"),
    (re.compile(r"KES \{\{ (?!amount \}\}|total \}\}|float \}\}|target \}\})"), "*.html"),
    (re.compile(r"KES \{\{"), "*.txt"),
    (re.compile(r":,\.2f\}"), "*.py"),
]


def test_no_template_or_module_formats_money_by_hand() -> None:
    """`|kes`, `|amount`, `format_kes` and `format_amount` are the one way to write money."""
    found = []
    for pattern, glob in HAND_FORMATTED:
        for path in KAUNTI.rglob(glob):
            relative = path.relative_to(KAUNTI).as_posix()
            if "/tests/" in relative or "simulator" in relative or relative == "core/money.py":
                continue
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                if pattern.search(line):
                    found.append(f"{relative}:{number}: {line.strip()[:80]}")
    assert found == []
