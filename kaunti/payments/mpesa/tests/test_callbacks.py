"""Parsing what Safaricom POSTs: the reference's sample payloads, variants seen in the wild,
and malformed payloads, each refused with a reason."""

import copy
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaunti.payments.mpesa.callbacks import (
    NAIROBI,
    AmountOutOfRange,
    C2BPayment,
    InvalidAmount,
    MalformedCallback,
    NeedsReview,
    StkCallback,
    check_mpesa_amount,
    parse_c2b,
    parse_stk_callback,
)

# shared/reference/kenya.md 1.4.1
STK_SUCCESS: dict[str, Any] = {
    "Body": {
        "stkCallback": {
            "MerchantRequestID": "29115-34620561-1",
            "CheckoutRequestID": "ws_CO_191220191020363925",
            "ResultCode": 0,
            "ResultDesc": "The service request is processed successfully.",
            "CallbackMetadata": {
                "Item": [
                    {"Name": "Amount", "Value": 1.00},
                    {"Name": "MpesaReceiptNumber", "Value": "NLJ7RT61SV"},
                    {"Name": "Balance"},
                    {"Name": "TransactionDate", "Value": 20191219102115},
                    {"Name": "PhoneNumber", "Value": 254708374149},
                ]
            },
        }
    }
}
STK_CANCELLED: dict[str, Any] = {
    "Body": {
        "stkCallback": {
            "MerchantRequestID": "19919-3025233-1",
            "CheckoutRequestID": "ws_CO_DMZ_401294732_11032019121308821",
            "ResultCode": 1032,
            "ResultDesc": "[STK_CB - ]Request cancelled by user",
        }
    }
}
# shared/reference/kenya.md 1.5.2
C2B_CONFIRMATION: dict[str, Any] = {
    "TransactionType": "Pay Bill",
    "TransID": "RKTQDM7W6S",
    "TransTime": "20191122063845",
    "TransAmount": "10.00",
    "BusinessShortCode": "600638",
    "BillRefNumber": "LR-0001234",
    "InvoiceNumber": "",
    "OrgAccountBalance": "",
    "ThirdPartyTransID": "",
    "MSISDN": "2547 ***** 126",
    "FirstName": "John",
    "MiddleName": "",
    "LastName": "Doe",
}


def stk_with(**changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(STK_SUCCESS)
    callback = payload["Body"]["stkCallback"]
    for key, value in changes.items():
        if value is None:
            callback.pop(key, None)
        else:
            callback[key] = value
    return payload


def stk_items(*items: dict[str, Any]) -> dict[str, Any]:
    return stk_with(CallbackMetadata={"Item": list(items)})


def test_stk_success_sample_is_read_by_name() -> None:
    assert parse_stk_callback(STK_SUCCESS) == StkCallback(
        merchant_request_id="29115-34620561-1",
        checkout_request_id="ws_CO_191220191020363925",
        result_code=0,
        result_desc="The service request is processed successfully.",
        amount=Decimal("1.00"),
        receipt_number="NLJ7RT61SV",
        transaction_date=datetime(2019, 12, 19, 10, 21, 15, tzinfo=NAIROBI),
        phone="254708374149",
    )


def test_stk_failure_sample_has_no_metadata() -> None:
    parsed = parse_stk_callback(STK_CANCELLED)
    assert parsed == StkCallback(
        merchant_request_id="19919-3025233-1",
        checkout_request_id="ws_CO_DMZ_401294732_11032019121308821",
        result_code=1032,
        result_desc="[STK_CB - ]Request cancelled by user",
    )
    assert parsed.is_success is False


def test_stk_items_in_any_order_with_a_string_result_code_and_an_int_amount() -> None:
    payload = stk_items(
        {"Name": "PhoneNumber", "Value": 254712000111},
        {"Name": "Balance"},
        {"Name": "TransactionDate", "Value": "20260808103015"},
        {"Name": "MpesaReceiptNumber", "Value": "TH81XYZ9AB"},
        {"Name": "Amount", "Value": 1500},
    )
    payload["Body"]["stkCallback"]["ResultCode"] = "0"
    parsed = parse_stk_callback(payload)
    assert (parsed.result_code, parsed.amount, parsed.receipt_number, parsed.phone) == (
        0,
        Decimal("1500.00"),
        "TH81XYZ9AB",
        "254712000111",
    )
    assert parsed.transaction_date == datetime(2026, 8, 8, 10, 30, 15, tzinfo=NAIROBI)


def test_stk_float_amount_is_read_through_its_text_not_binary() -> None:
    payload = stk_items(
        {"Name": "Amount", "Value": 0.1 + 0.2},  # 0.30000000000000004 as a float
        {"Name": "MpesaReceiptNumber", "Value": "TH81XYZ9AB"},
    )
    with pytest.raises(MalformedCallback, match="more than two decimal places"):
        parse_stk_callback(payload)
    payload = stk_items(
        {"Name": "Amount", "Value": 10.1},
        {"Name": "MpesaReceiptNumber", "Value": "TH81XYZ9AB"},
    )
    assert parse_stk_callback(payload).amount == Decimal("10.10")


def test_stk_success_without_optional_items_leaves_them_empty() -> None:
    payload = stk_items(
        {"Name": "Amount", "Value": 5},
        {"Name": "MpesaReceiptNumber", "Value": "TH81XYZ9AB"},
    )
    parsed = parse_stk_callback(payload)
    assert (parsed.transaction_date, parsed.phone) == (None, None)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({}, "payload has no Body"),
        ({"Body": []}, "Body must be an object, not list"),
        ({"Body": {}}, "Body has no stkCallback"),
        (stk_with(CheckoutRequestID=None), "stkCallback has no CheckoutRequestID"),
        (stk_with(MerchantRequestID="  "), "stkCallback has an empty MerchantRequestID"),
        (stk_with(ResultCode=None), "stkCallback has no ResultCode"),
        (stk_with(ResultCode="zero"), "ResultCode must be a whole number"),
        (stk_with(ResultCode=True), "ResultCode must be text, not bool"),
        (stk_with(CallbackMetadata=None), "a successful stkCallback has no CallbackMetadata"),
        (stk_with(CallbackMetadata={"Item": "x"}), "CallbackMetadata.Item must be a list"),
        (
            stk_items({"Name": "MpesaReceiptNumber", "Value": "TH81XYZ9AB"}),
            "no CallbackMetadata Amount",
        ),
        (stk_items({"Name": "Amount", "Value": 5}), "no CallbackMetadata MpesaReceiptNumber"),
        (
            stk_items(
                {"Name": "Amount", "Value": "five"},
                {"Name": "MpesaReceiptNumber", "Value": "TH81XYZ9AB"},
            ),
            "Amount is not a number",
        ),
        (
            stk_items(
                {"Name": "Amount", "Value": -5},
                {"Name": "MpesaReceiptNumber", "Value": "TH81XYZ9AB"},
            ),
            "Amount must not be negative",
        ),
        (
            stk_items(
                {"Name": "Amount", "Value": 5},
                {"Name": "MpesaReceiptNumber", "Value": "TH81XYZ9AB"},
                {"Name": "TransactionDate", "Value": 20191319102115},
            ),
            "TransactionDate is not a real date and time",
        ),
        (
            stk_items(
                {"Name": "Amount", "Value": 5},
                {"Name": "MpesaReceiptNumber", "Value": "TH81XYZ9AB"},
                {"Name": "TransactionDate", "Value": "2019-12-19"},
            ),
            "TransactionDate must be 14 digits",
        ),
    ],
)
def test_malformed_stk_callback_is_refused_with_a_reason(
    payload: dict[str, Any], reason: str
) -> None:
    with pytest.raises(MalformedCallback) as caught:
        parse_stk_callback(payload)
    assert reason in caught.value.reason
    assert isinstance(caught.value, ValueError)


def test_c2b_sample_is_read() -> None:
    assert parse_c2b(C2B_CONFIRMATION) == C2BPayment(
        transaction_type="Pay Bill",
        trans_id="RKTQDM7W6S",
        trans_time=datetime(2019, 11, 22, 6, 38, 45, tzinfo=NAIROBI),
        amount=Decimal("10.00"),
        shortcode="600638",
        bill_ref_number="LR-0001234",
        msisdn="2547 ***** 126",
        first_name="John",
        middle_name="",
        last_name="Doe",
        org_account_balance=None,
    )


def test_c2b_account_number_is_trimmed_and_upper_cased_and_numbers_are_accepted() -> None:
    payload = {
        **C2B_CONFIRMATION,
        "BillRefNumber": "  lr-0001234 ",
        "TransAmount": 1500,
        "BusinessShortCode": 600638,
        "OrgAccountBalance": "49197.00",
        "MSISDN": "a" * 64,
    }
    payment = parse_c2b(payload)
    assert payment.bill_ref_number == "LR-0001234"
    assert payment.amount == Decimal("1500.00")
    assert payment.shortcode == "600638"
    assert payment.org_account_balance == Decimal("49197.00")
    assert payment.msisdn == "a" * 64


def c2b_with(**changes: Any) -> dict[str, Any]:
    payload = dict(C2B_CONFIRMATION)
    for key, value in changes.items():
        if value is None:
            payload.pop(key)
        else:
            payload[key] = value
    return payload


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (c2b_with(TransID=None), "payload has no TransID"),
        (c2b_with(TransID=" "), "payload has an empty TransID"),
        (c2b_with(TransID=["RKTQDM7W6S"]), "TransID must be text, not list"),
        (c2b_with(TransAmount="ten"), "TransAmount is not a number"),
        (c2b_with(TransAmount="1e3"), "TransAmount is not a number"),
        (c2b_with(TransAmount="NaN"), "TransAmount is not a number"),
        (c2b_with(TransAmount="-5.00"), "TransAmount must not be negative"),
        (c2b_with(TransAmount="0.00"), "TransAmount must be more than zero"),
        (c2b_with(TransAmount="10.005"), "TransAmount has more than two decimal places"),
        (c2b_with(TransAmount="1" * 20), "TransAmount is too large"),
        (c2b_with(TransAmount=None), "payload has no TransAmount"),
        (c2b_with(TransTime="2019-11-22 06:38"), "TransTime must be 14 digits"),
        (c2b_with(TransTime="20191322063845"), "TransTime is not a real date and time"),
        (c2b_with(BusinessShortCode=""), "payload has an empty BusinessShortCode"),
        (c2b_with(MSISDN={"hash": "x"}), "payload MSISDN must be text, not dict"),
    ],
)
def test_malformed_c2b_payload_is_refused_with_a_reason(
    payload: dict[str, Any], reason: str
) -> None:
    with pytest.raises(MalformedCallback) as caught:
        parse_c2b(payload)
    assert reason in caught.value.reason


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)
C2B_LIKE = st.dictionaries(
    st.sampled_from([*C2B_CONFIRMATION, "Other"]) | st.text(max_size=10),
    JSON_VALUES
    | st.from_regex(r"\A-?\d{1,16}(\.\d{0,4})?\Z")
    | st.from_regex(r"\A\d{14}\Z")
    | st.integers(min_value=10**4300, max_value=10**4400),
    max_size=14,
)


def outcome_of(parse: Callable[[dict[str, Any]], object], payload: dict[str, Any]) -> object:
    """The parsed value, or the reason it was refused; any other exception fails the test."""
    try:
        return parse(payload)
    except MalformedCallback as exc:
        return exc.reason


@settings(max_examples=300, deadline=None)
@given(payload=C2B_LIKE)
def test_parse_c2b_raises_nothing_but_malformed_callback(payload: dict[str, Any]) -> None:
    outcome = outcome_of(parse_c2b, payload)
    if isinstance(outcome, C2BPayment):
        assert outcome.amount > 0
        assert outcome.trans_time.tzinfo == NAIROBI
    else:
        assert isinstance(outcome, str)
        assert outcome


@settings(max_examples=300, deadline=None)
@given(payload=C2B_LIKE)
def test_parse_c2b_raises_nothing_but_malformed_callback_near_a_valid_payload(
    payload: dict[str, Any],
) -> None:
    outcome = outcome_of(parse_c2b, {**C2B_CONFIRMATION, **payload})
    assert isinstance(outcome, C2BPayment | str)


STK_FIELDS = list(STK_SUCCESS["Body"]["stkCallback"])


@settings(max_examples=300, deadline=None)
@given(callback=st.dictionaries(st.sampled_from(STK_FIELDS), JSON_VALUES))
def test_parse_stk_callback_raises_nothing_but_malformed_callback(
    callback: dict[str, Any],
) -> None:
    payload = {"Body": {"stkCallback": {**STK_SUCCESS["Body"]["stkCallback"], **callback}}}
    outcome = outcome_of(parse_stk_callback, payload)
    assert isinstance(outcome, StkCallback | str)


# Digits other than 0-9 that Python's `\d`, int() and Decimal() all read as numbers:
# full-width (U+FF11), Arabic-Indic (U+0661), Devanagari (U+0967) and the rest of category Nd.
NON_ASCII_DIGITS = st.characters(categories=["Nd"]).filter(lambda ch: not "0" <= ch <= "9")


def with_one_digit_replaced(ascii_text: str, digit: str, position: int) -> str:
    """`ascii_text` with one of its ASCII digits (chosen by `position`) replaced by `digit`."""
    places = [index for index, ch in enumerate(ascii_text) if ch.isascii() and ch.isdigit()]
    index = places[position % len(places)]
    return ascii_text[:index] + digit + ascii_text[index + 1 :]


@given(digit=NON_ASCII_DIGITS, position=st.integers(min_value=0))
def test_a_c2b_amount_or_time_in_other_digits_is_refused(digit: str, position: int) -> None:
    for field in ("TransAmount", "TransTime"):
        changed = with_one_digit_replaced(C2B_CONFIRMATION[field], digit, position)
        with pytest.raises(MalformedCallback):
            parse_c2b(c2b_with(**{field: changed}))


@given(digit=NON_ASCII_DIGITS, position=st.integers(min_value=0))
def test_an_stk_amount_or_result_code_in_other_digits_is_refused(digit: str, position: int) -> None:
    amount = with_one_digit_replaced("1500.00", digit, position)
    metadata = {
        "Item": [
            {"Name": "Amount", "Value": amount},
            {"Name": "MpesaReceiptNumber", "Value": "NLJ7RT61SV"},
        ]
    }
    with pytest.raises(MalformedCallback):
        parse_stk_callback(stk_with(CallbackMetadata=metadata))
    with pytest.raises(MalformedCallback):
        parse_stk_callback(stk_with(ResultCode=with_one_digit_replaced("1032", digit, position)))


@pytest.mark.parametrize(
    "amount", ["\uff11\uff10\uff10", "\u0663\u0660\u0660", "\u0967\u096b\u0966\u0966.\u0966\u0966"]
)
def test_the_amounts_of_the_attack_are_refused_as_invalid_amounts(amount: str) -> None:
    with pytest.raises(InvalidAmount, match="TransAmount is not a number"):
        parse_c2b(c2b_with(TransAmount=amount))


def test_an_unreadable_org_account_balance_is_left_out_and_the_payment_reads() -> None:
    payment = parse_c2b(c2b_with(OrgAccountBalance="lots"))

    assert (payment.amount, payment.org_account_balance) == (Decimal("10.00"), None)


def test_an_stk_phone_number_that_is_not_plain_digits_is_left_out() -> None:
    items = copy.deepcopy(STK_SUCCESS["Body"]["stkCallback"]["CallbackMetadata"])
    items["Item"][4]["Value"] = (
        "\u0662\u0665\u0664\u0667\u0660\u0668\u0663\u0667\u0664\u0661\u0664\u0669"
    )

    assert parse_stk_callback(stk_with(CallbackMetadata=items)).phone is None


@pytest.mark.parametrize(
    "receipt",
    [
        "NLJ7RT61SV" * 3,
        "NLJ7RT61S",
        "nlj7rt61sv",
        "NLJ7RT-1SV",
        "\uff2e\uff2c\uff2a\uff17\uff32\uff34\uff16\uff11\uff33\uff36",
    ],
)
def test_a_receipt_number_of_another_shape_is_a_case_for_review(receipt: str) -> None:
    items = copy.deepcopy(STK_SUCCESS["Body"]["stkCallback"]["CallbackMetadata"])
    items["Item"][1]["Value"] = receipt

    with pytest.raises(NeedsReview, match="MpesaReceiptNumber is not 10 characters"):
        parse_stk_callback(stk_with(CallbackMetadata=items))
    with pytest.raises(NeedsReview, match="TransID is not 10 characters"):
        parse_c2b(c2b_with(TransID=receipt))


@pytest.mark.parametrize("amount", ["0.99", "250000.01", "999999999999.99"])
def test_an_amount_outside_mpesa_limits_is_out_of_range(amount: str) -> None:
    with pytest.raises(AmountOutOfRange, match=f"Amount {amount} is outside M-Pesa's limits"):
        check_mpesa_amount(Decimal(amount), least=Decimal(1), most=Decimal(250_000), name="Amount")


@pytest.mark.parametrize("amount", ["1", "1.00", "250000.00"])
def test_an_amount_within_mpesa_limits_passes(amount: str) -> None:
    check_mpesa_amount(Decimal(amount), least=Decimal(1), most=Decimal(250_000), name="Amount")


def test_a_nul_in_a_text_value_is_refused() -> None:
    with pytest.raises(MalformedCallback, match="FirstName contains a NUL character"):
        parse_c2b(c2b_with(FirstName="Jo\x00hn"))
