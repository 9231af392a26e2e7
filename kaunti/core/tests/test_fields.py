"""Number fields that read ASCII digits only, where Django's and DRF's read any digit."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError as ApiValidationError

from kaunti.core.fields import (
    AsciiDecimalField,
    AsciiDecimalInput,
    AsciiIntegerField,
    AsciiIntegerInput,
)

NON_ASCII_DIGITS = st.characters(categories=["Nd"]).filter(lambda ch: not "0" <= ch <= "9")


@given(digit=NON_ASCII_DIGITS, position=st.integers(min_value=0, max_value=3))
def test_number_fields_refuse_any_digit_other_than_0_to_9(digit: str, position: int) -> None:
    text = "2026"
    changed = text[:position] + digit + text[position + 1 :]
    with pytest.raises(ValidationError):
        AsciiDecimalField(max_digits=14, decimal_places=2).clean(changed)
    with pytest.raises(ValidationError):
        AsciiIntegerField().clean(changed)
    with pytest.raises(ApiValidationError):
        AsciiDecimalInput(max_digits=14, decimal_places=2).run_validation(changed)
    with pytest.raises(ApiValidationError):
        AsciiIntegerInput().run_validation(changed)


def test_number_fields_read_plain_numbers_as_before() -> None:
    assert AsciiDecimalField(max_digits=14, decimal_places=2).clean(" 1500.50 ") == Decimal(
        "1500.50"
    )
    assert AsciiIntegerField().clean("2026") == 2026
    assert AsciiDecimalInput(max_digits=14, decimal_places=2).run_validation(1500) == Decimal(
        "1500.00"
    )
    assert AsciiIntegerInput().run_validation("2026") == 2026


def test_the_refusal_is_the_fields_own_invalid_message() -> None:
    field = AsciiDecimalField(error_messages={"invalid": "Enter an amount in shillings."})
    with pytest.raises(ValidationError) as refused:
        field.clean("\uff11\uff10\uff10")
    assert refused.value.messages == ["Enter an amount in shillings."]
