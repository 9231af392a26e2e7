import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from kaunti.core.identifiers import (
    as_e164,
    mask_phone,
    normalise_kra_pin,
    normalise_national_id,
    normalise_phone,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0712345678", "254712345678"),
        ("0712 345 678", "254712345678"),
        ("0712-345-678", "254712345678"),
        ("+254712345678", "254712345678"),
        ("+254 712 345 678", "254712345678"),
        ("254712345678", "254712345678"),
        ("712345678", "254712345678"),
        ("0110123456", "254110123456"),
        ("+254 110 123 456", "254110123456"),
        ("(0712) 345-678", "254712345678"),
    ],
)
def test_phone_numbers_in_every_common_form_normalise_to_daraja_form(
    raw: str, expected: str
) -> None:
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "0712",
        "071234567",
        "07123456789",
        "0212345678",
        "+255712345678",
        "2540712345678",
        "07a2345678",
        "254812345678",
    ],
)
def test_non_kenyan_or_malformed_phone_numbers_are_refused(raw: str) -> None:
    with pytest.raises(ValidationError):
        normalise_phone(raw)


def _message_in(language: str, check: object, raw: str) -> str:
    with translation.override(language), pytest.raises(ValidationError) as error:
        check(raw)  # type: ignore[operator]
    with translation.override(language):  # messages are lazy: read them in that language
        return str(error.value.messages[0])


def test_phone_error_is_in_the_users_language() -> None:
    assert _message_in("en", normalise_phone, "0212345678") == (
        "Enter a Kenyan mobile number, like 0712 345 678 or +254 712 345 678."
    )
    assert _message_in("sw", normalise_phone, "0212345678") == (
        "Andika nambari ya simu ya mkononi ya Kenya, kama 0712 345 678 au +254 712 345 678."
    )


@given(st.sampled_from("71"), st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_every_form_of_a_valid_number_gives_the_same_result(first: str, rest: str) -> None:
    nine = first + rest
    forms = [
        "0" + nine,
        "+254" + nine,
        "254" + nine,
        f"0{nine[:3]} {nine[3:6]} {nine[6:]}",
        f"+254-{nine}",
    ]
    assert {normalise_phone(form) for form in forms} == {"254" + nine}


def test_e164_and_masking_for_display() -> None:
    assert as_e164("0712345678") == "+254712345678"
    assert mask_phone("254712345678") == "0712 *** 678"


@pytest.mark.parametrize(
    ("raw", "expected"), [("12345678", "12345678"), ("1234 5678", "12345678"), ("123456", "123456")]
)
def test_national_id_numbers_keep_digits_only(raw: str, expected: str) -> None:
    assert normalise_national_id(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "1234567890", "12A45678", ""])
def test_bad_national_id_numbers_are_refused(raw: str) -> None:
    with pytest.raises(ValidationError):
        normalise_national_id(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("A004416331M", "A004416331M"),
        ("p051365947m", "P051365947M"),
        ("A 004-416-331 M", "A004416331M"),
    ],
)
def test_kra_pins_are_upper_cased_and_stripped(raw: str, expected: str) -> None:
    assert normalise_kra_pin(raw) == expected


@pytest.mark.parametrize(
    "raw", ["B004416331M", "A00441633M", "A0044163311", "A|04416331M", "A004416331MM", ""]
)
def test_bad_kra_pins_are_refused(raw: str) -> None:
    assert _message_in("sw", normalise_kra_pin, raw).startswith("Andika PIN ya KRA")


# Digits other than 0-9 that `\d`, str.isdigit(), int() and Decimal() all accept: full-width
# (U+FF10...), Arabic-Indic (U+0660...), Devanagari (U+0966...) and the rest of category Nd.
NON_ASCII_DIGITS = st.characters(categories=["Nd"]).filter(lambda ch: not "0" <= ch <= "9")


def _one_digit_replaced(text: str, digit: str, position: int) -> str:
    places = [index for index, ch in enumerate(text) if "0" <= ch <= "9"]
    index = places[position % len(places)]
    return text[:index] + digit + text[index + 1 :]


@given(digit=NON_ASCII_DIGITS, position=st.integers(min_value=0))
def test_identifiers_with_any_digit_other_than_0_to_9_are_refused(
    digit: str, position: int
) -> None:
    for parse, valid in (
        (normalise_phone, "0712345678"),
        (normalise_phone, "+254 712 345 678"),
        (normalise_national_id, "12345678"),
        (normalise_kra_pin, "A004416331M"),
    ):
        with pytest.raises(ValidationError):
            parse(_one_digit_replaced(valid, digit, position))


@pytest.mark.parametrize(
    "raw",
    [
        "\u0660\u0667\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668",
        "\uff10\uff17\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18",
        "+\u0662\u0665\u0664\u0667\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668",
    ],
)
def test_a_phone_number_in_arabic_indic_or_full_width_digits_is_refused(raw: str) -> None:
    assert _message_in("en", normalise_phone, raw) == (
        "Enter a phone number using digits only, like 0712 345 678."
    )
