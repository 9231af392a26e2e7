"""Rate computation: percentage of site value, half-up to the cent, never below the minimum."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from kaunti.land.models import LandUse, RatingRule
from kaunti.land.services.rating import (
    choose_rule,
    compute_penalty,
    compute_rates,
    format_financial_year,
    parse_financial_year,
)

values = st.decimals(min_value=0, max_value=Decimal("1e11"), places=2)
rates = st.decimals(min_value=0, max_value=100, places=4)
minimums = st.decimals(min_value=0, max_value=Decimal("1e6"), places=2)


@given(site_value=values, rate=rates, minimum=minimums)
def test_rates_are_never_below_the_minimum_and_are_in_cents(
    site_value: Decimal, rate: Decimal, minimum: Decimal
) -> None:
    charge = compute_rates(site_value=site_value, rate_percent=rate, minimum_charge=minimum)

    assert charge >= minimum
    assert charge == charge.quantize(Decimal("0.01"))
    exact = site_value * rate / 100
    assert charge == max(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), minimum)


@given(rate=rates, minimum=minimums)
def test_land_valued_at_zero_pays_the_minimum(rate: Decimal, minimum: Decimal) -> None:
    assert (
        compute_rates(site_value=Decimal(0), rate_percent=rate, minimum_charge=minimum) == minimum
    )


@given(site_value=values, rate=rates)
def test_more_valuable_land_never_pays_less(site_value: Decimal, rate: Decimal) -> None:
    cheaper = compute_rates(site_value=site_value, rate_percent=rate, minimum_charge=Decimal(500))
    dearer = compute_rates(
        site_value=site_value + Decimal(1000), rate_percent=rate, minimum_charge=Decimal(500)
    )
    assert dearer >= cheaper


@pytest.mark.parametrize(
    ("site_value", "rate", "expected"),
    [
        ("250005", "0.1", "500.00"),  # 250.005 rounds to 250.01, under the minimum
        ("1234567", "0.1", "1234.57"),  # .567 rounds up
        ("1234565", "0.1", "1234.57"),  # exactly half a cent rounds up
        ("1234564", "0.1", "1234.56"),
        ("0", "0", "500.00"),
    ],
)
def test_rounding_is_half_up_to_the_cent(site_value: str, rate: str, expected: str) -> None:
    assert compute_rates(
        site_value=Decimal(site_value), rate_percent=Decimal(rate), minimum_charge=Decimal(500)
    ) == Decimal(expected)


def test_negative_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        compute_rates(site_value=Decimal(-1), rate_percent=Decimal(1), minimum_charge=Decimal(0))


def test_penalty_is_a_percentage_of_arrears_and_nothing_on_nothing() -> None:
    assert compute_penalty(arrears=Decimal("1234.57"), percent_per_month=Decimal(1)) == Decimal(
        "12.35"
    )
    assert compute_penalty(arrears=Decimal(0), percent_per_month=Decimal(2)) == Decimal("0.00")


def test_the_most_specific_rule_wins() -> None:
    general = RatingRule(land_use="", zone="", rate_percent=Decimal("0.1"))
    commercial = RatingRule(land_use=LandUse.COMMERCIAL, zone="", rate_percent=Decimal("0.5"))
    town = RatingRule(land_use="", zone="TOWN", rate_percent=Decimal("0.3"))
    town_commercial = RatingRule(
        land_use=LandUse.COMMERCIAL, zone="TOWN", rate_percent=Decimal("0.8")
    )
    rules = [general, commercial, town, town_commercial]

    assert choose_rule(rules, land_use=LandUse.COMMERCIAL, zone="TOWN") is town_commercial
    assert choose_rule(rules, land_use=LandUse.COMMERCIAL, zone="") is commercial
    assert choose_rule(rules, land_use=LandUse.RESIDENTIAL, zone="TOWN") is town
    assert choose_rule(rules, land_use=LandUse.RESIDENTIAL, zone="RURAL") is general
    assert choose_rule([commercial], land_use=LandUse.RESIDENTIAL, zone="") is None


@pytest.mark.parametrize(("text", "year"), [("2026/27", 2026), ("2026-2027", 2026), ("2026", 2026)])
def test_financial_years_are_read_as_typed(text: str, year: int) -> None:
    assert parse_financial_year(text) == year
    assert format_financial_year(year) == "2026/27"


def test_a_year_that_does_not_follow_on_is_refused() -> None:
    with pytest.raises(ValidationError):
        parse_financial_year("2026/28")
