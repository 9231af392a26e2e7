"""Dates the Kenyan way in both languages, and the GOV.UK day-month-year date input."""

import re
from collections.abc import Callable
from datetime import date

import pytest
from django import forms
from django.test import Client
from django.utils import translation
from django.utils.formats import date_format

from kaunti.accounts.models import User
from kaunti.conftest import sign_in_staff
from kaunti.core.forms import GovukDateField
from kaunti.ledger.services import load_chart_of_accounts


@pytest.mark.parametrize(
    ("language", "long", "short"),
    [("en", "7 December 2026", "07/12/2026"), ("sw", "7 Disemba 2026", "07/12/2026")],
)
def test_dates_are_written_day_first_in_both_languages(
    language: str, long: str, short: str
) -> None:
    with translation.override(language):
        assert date_format(date(2026, 12, 7)) == long
        assert date_format(date(2026, 12, 7), "SHORT_DATE_FORMAT") == short


class DayForm(forms.Form):
    day = GovukDateField(label="Day")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"day_day": "7", "day_month": "12", "day_year": "2026"}, date(2026, 12, 7)),
        ({"day_day": " 07 ", "day_month": "02", "day_year": "2028"}, date(2028, 2, 7)),
        ({"day": "2026-12-07"}, date(2026, 12, 7)),  # a link's single ISO value
        ({"day": "07/12/2026"}, date(2026, 12, 7)),
    ],
)
def test_a_date_is_read_from_its_day_month_and_year_boxes(
    data: dict[str, str], expected: date
) -> None:
    form = DayForm(data)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["day"] == expected


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (
            {"day_day": "31", "day_month": "2", "day_year": "2026"},
            "Enter a real date, for example 7 12 2026.",
        ),
        (
            {"day_day": "7", "day_month": "13", "day_year": "2026"},
            "Enter a real date, for example 7 12 2026.",
        ),
        (
            {"day_day": "7", "day_month": "12", "day_year": "26"},
            "Enter a real date, for example 7 12 2026.",
        ),
        (
            {"day_day": "\u0667", "day_month": "12", "day_year": "2026"},
            "Enter a real date, for example 7 12 2026.",
        ),
        (
            {"day_day": "7", "day_month": "", "day_year": "2026"},
            "The date must include a day, a month and a year.",
        ),
        ({"day_day": "", "day_month": "", "day_year": ""}, "Enter a date."),
        ({"day": "12/31/2026"}, "Enter a real date, for example 7 12 2026."),
    ],
)
def test_an_impossible_or_partial_date_is_refused_with_a_clear_error(
    data: dict[str, str], error: str
) -> None:
    form = DayForm(data)
    assert not form.is_valid()
    assert form.errors["day"] == [error]


def test_the_kiswahili_error_for_an_impossible_date_is_in_kiswahili() -> None:
    with translation.override("sw"):
        form = DayForm({"day_day": "31", "day_month": "2", "day_year": "2026"})
        assert not form.is_valid()
        assert form.errors["day"] == ["Andika tarehe halisi, kwa mfano 7 12 2026."]


@pytest.fixture
def auditor_client(client: Client, reference_data: None, make_staff: Callable[..., User]) -> Client:
    load_chart_of_accounts()
    sign_in_staff(client, make_staff(["auditor"], department="audit"))
    return client


def test_the_trial_balance_asks_for_day_month_and_year_and_shows_the_day_kenyan_style(
    auditor_client: Client,
) -> None:
    html = auditor_client.get(
        "/staff/ledger/", {"as_of_day": "7", "as_of_month": "12", "as_of_year": "2026"}
    ).content.decode()

    assert "Balances at the end of 7 December 2026" in html
    assert 'type="date"' not in html
    boxes = re.findall(r'<input type="text" name="(as_of_\w+)" value="(\d+)"', html)
    assert boxes == [("as_of_day", "7"), ("as_of_month", "12"), ("as_of_year", "2026")]
    assert '<legend class="govuk-fieldset__legend">As of</legend>' in html


def test_a_rejected_date_keeps_what_was_typed_and_says_what_is_wrong(
    auditor_client: Client,
) -> None:
    html = auditor_client.get(
        "/staff/ledger/", {"as_of_day": "31", "as_of_month": "2", "as_of_year": "2026"}
    ).content.decode()

    assert "Enter a real date." in html
    assert '<a href="#id_as_of_day">' in html
    boxes = re.findall(r'<input type="text" name="(as_of_\w+)" value="(\d+)"', html)
    assert boxes == [("as_of_day", "31"), ("as_of_month", "2"), ("as_of_year", "2026")]
    assert "govuk-input--error" in html
    assert "Balances at the end of" not in html


def test_the_trial_balance_in_kiswahili_shows_the_day_in_kiswahili(
    auditor_client: Client,
) -> None:
    User.objects.update(preferred_language="sw")
    html = auditor_client.get(
        "/staff/ledger/", {"as_of_day": "7", "as_of_month": "12", "as_of_year": "2026"}
    ).content.decode()
    assert "7 Disemba 2026" in html
    assert ">Siku</label>" in html
