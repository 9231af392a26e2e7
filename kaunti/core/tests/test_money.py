from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from kaunti.core.money import format_kes, kes, whole_shillings_for_mpesa


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
