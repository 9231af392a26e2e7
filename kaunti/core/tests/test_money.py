from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from kaunti.core.money import format_kes, kes, parse_amount, whole_shillings_for_mpesa


def test_amounts_are_rounded_half_up_to_the_cent() -> None:
    assert kes("10.005") == Decimal("10.01")
    assert kes("10.004") == Decimal("10.00")
    assert kes(7) == Decimal("7.00")
    assert kes(Decimal("-2.675")) == Decimal("-2.68")


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        kes(0.1)  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", ["abc", "NaN", "Infinity", ""])
def test_text_that_is_not_an_amount_is_refused(raw: str) -> None:
    with pytest.raises(ValidationError):
        kes(raw)


def test_mpesa_gets_whole_shillings_never_less_than_owed() -> None:
    assert whole_shillings_for_mpesa(Decimal("100.00")) == 100
    assert whole_shillings_for_mpesa(Decimal("100.01")) == 101
    assert whole_shillings_for_mpesa(Decimal("99.50")) == 100


@given(st.decimals(min_value=0, max_value=10**9, places=2))
def test_mpesa_amount_covers_the_bill_by_less_than_a_shilling(amount: Decimal) -> None:
    whole = whole_shillings_for_mpesa(amount)
    assert amount <= whole < amount + 1


def test_display_format() -> None:
    assert format_kes(Decimal("1234.5")) == "KES 1,234.50"


NON_ASCII_DIGITS = st.characters(categories=["Nd"]).filter(lambda ch: not "0" <= ch <= "9")


@given(digit=NON_ASCII_DIGITS, position=st.integers(min_value=0, max_value=6))
def test_an_amount_with_any_digit_other_than_0_to_9_is_refused(digit: str, position: int) -> None:
    text = "1500.50"
    places = [index for index, ch in enumerate(text) if ch != "."]
    index = places[position % len(places)]
    with pytest.raises(ValidationError):
        parse_amount(text[:index] + digit + text[index + 1 :])
    with pytest.raises(ValidationError):
        kes(text[:index] + digit + text[index + 1 :])


@pytest.mark.parametrize(
    "raw", ["\uff11\uff10\uff10", "\u0663\u0660\u0660", "1e3", "1_000", "+5", ".5", "5."]
)
def test_text_that_is_not_a_plain_amount_is_refused(raw: str) -> None:
    with pytest.raises(ValidationError):
        parse_amount(raw)


def test_a_plain_amount_is_read_exactly() -> None:
    assert parse_amount(" 1500.505 ") == Decimal("1500.505")
    assert parse_amount("-2") == Decimal("-2")
