"""Parse what Safaricom POSTs to us: the STK push callback and C2B validation/confirmation.

Pure functions, no Django views: the endpoints call them and decide what to store. Every
defect in a payload raises `MalformedCallback` with a reason a person can act on, and
nothing else: an endpoint catches that one exception, keeps the raw body, and still answers
Safaricom with HTTP 200 (shared/reference/kenya.md sections 1.4.1 and 1.5.2).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Final
from zoneinfo import ZoneInfo

from kaunti.core.money import CENT, MAX_DIGITS, is_ascii_amount

NAIROBI: Final = ZoneInfo("Africa/Nairobi")

# ASCII digits only: `\d` would also take 100 in full-width digits or 300 in Arabic-Indic
# ones, and Decimal() and int() read them as 100 and 300.
_TIMESTAMP = re.compile(r"[0-9]{14}")
_RESULT_CODE = re.compile(r"-?[0-9]{1,9}")
# An M-Pesa receipt number (an STK MpesaReceiptNumber, a C2B TransID): 10 characters of
# A-Z and 0-9 (shared/reference/kenya.md, "receipt").
_RECEIPT = re.compile(r"[A-Z0-9]{10}")
# A phone number in an STK callback: digits only, as Daraja sends it (2547XXXXXXXX).
_PHONE_DIGITS = re.compile(r"[0-9]{9,15}")
# The largest amount a DecimalField(max_digits=14, decimal_places=2) can hold.
_MAX_AMOUNT: Final = Decimal(10) ** (MAX_DIGITS - 2) - CENT


class MalformedCallback(ValueError):
    """A payload from Safaricom that cannot be read; `reason` says what is wrong with it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidAmount(MalformedCallback):
    """A C2B payload whose TransAmount is missing, unreadable or not more than zero
    (validation answers it with C2B00013 "Invalid Amount")."""


class NeedsReview(MalformedCallback):
    """A payload that reads, but carries what M-Pesa itself never sends (an amount outside
    its limits, a receipt number of another shape): kept for an officer, never recorded."""


class AmountOutOfRange(NeedsReview, InvalidAmount):
    """An amount outside what M-Pesa takes in one payment (validation: C2B00013)."""


def check_mpesa_amount(amount: Decimal, *, least: Decimal, most: Decimal, name: str) -> None:
    """Refuse an amount M-Pesa could not have carried: below `least` or above `most`."""
    if not least <= amount <= most:
        raise AmountOutOfRange(
            f"{name} {amount} is outside M-Pesa's limits of KES {least} to {most}"
        )


def check_receipt_number(value: str, *, name: str) -> str:
    """A receipt number of M-Pesa's shape; any other (too long, lower case, symbols) is a
    case for review: it would not fit the payment's column, and M-Pesa does not send it."""
    if not _RECEIPT.fullmatch(value):
        raise NeedsReview(f"{name} is not 10 characters of A-Z and 0-9: {value!r:.40}")
    return value


@dataclass(frozen=True)
class StkCallback:
    """The outcome of one STK push; the metadata fields are set only on success."""

    merchant_request_id: str
    checkout_request_id: str
    result_code: int
    result_desc: str
    amount: Decimal | None = None
    receipt_number: str | None = None
    transaction_date: datetime | None = None
    phone: str | None = None

    @property
    def is_success(self) -> bool:
        return self.result_code == 0


@dataclass(frozen=True)
class C2BPayment:
    """One paybill/till payment as Safaricom describes it to the validation or confirmation URL.

    `msisdn` is kept as given: Safaricom now sends it plain, masked ("2547 ***** 126") or as a
    SHA-256 hash, so it is never the key to match a payment on (`bill_ref_number` is).
    """

    transaction_type: str
    trans_id: str
    trans_time: datetime
    amount: Decimal
    shortcode: str
    bill_ref_number: str
    msisdn: str
    first_name: str
    middle_name: str
    last_name: str
    org_account_balance: Decimal | None
    invoice_number: str = ""
    third_party_trans_id: str = ""


def parse_stk_callback(payload: Mapping[str, object]) -> StkCallback:
    """Read an STK callback `{"Body": {"stkCallback": {...}}}`.

    Metadata items are looked up by name (their order varies, `Balance` may have no value).
    A success without an amount or a receipt number is refused: it could not be recorded.
    """
    body = _mapping(_require(payload, "Body", where="payload"), "Body")
    callback = _mapping(_require(body, "stkCallback", where="Body"), "Body.stkCallback")
    merchant_request_id = _required_text(callback, "MerchantRequestID", where="stkCallback")
    checkout_request_id = _required_text(callback, "CheckoutRequestID", where="stkCallback")
    result_code = _result_code(_require(callback, "ResultCode", where="stkCallback"))
    result_desc = _optional_text(callback, "ResultDesc", where="stkCallback")
    if result_code != 0:
        return StkCallback(
            merchant_request_id=merchant_request_id,
            checkout_request_id=checkout_request_id,
            result_code=result_code,
            result_desc=result_desc,
        )
    items = _metadata_items(callback)
    amount = items.get("Amount")
    receipt = items.get("MpesaReceiptNumber")
    if amount is None:
        raise MalformedCallback("a successful stkCallback has no CallbackMetadata Amount")
    if receipt is None or not _text(receipt, "MpesaReceiptNumber"):
        raise MalformedCallback(
            "a successful stkCallback has no CallbackMetadata MpesaReceiptNumber"
        )
    transaction_date = items.get("TransactionDate")
    phone = items.get("PhoneNumber")
    return StkCallback(
        merchant_request_id=merchant_request_id,
        checkout_request_id=checkout_request_id,
        result_code=result_code,
        result_desc=result_desc,
        amount=_amount(amount, "Amount"),
        receipt_number=check_receipt_number(
            _text(receipt, "MpesaReceiptNumber"), name="MpesaReceiptNumber"
        ),
        transaction_date=(
            None if transaction_date is None else _timestamp(transaction_date, "TransactionDate")
        ),
        phone=None if phone is None else _phone(phone),
    )


def parse_c2b(payload: Mapping[str, object]) -> C2BPayment:
    """Read a C2B validation or confirmation payload (both carry the same fields).

    Values are strings in practice but numbers are accepted; the account number is trimmed
    and upper-cased because customers type it by hand.
    """
    trans_id = _required_text(payload, "TransID", where="payload")
    try:
        amount = _amount(_require(payload, "TransAmount", where="payload"), "TransAmount")
    except MalformedCallback as exc:
        raise InvalidAmount(exc.reason) from exc
    if amount <= 0:
        raise InvalidAmount(f"TransAmount must be more than zero, not {amount}")
    return C2BPayment(
        transaction_type=_optional_text(payload, "TransactionType", where="payload"),
        trans_id=check_receipt_number(trans_id, name="TransID"),
        trans_time=_timestamp(_require(payload, "TransTime", where="payload"), "TransTime"),
        amount=amount,
        shortcode=_required_text(payload, "BusinessShortCode", where="payload"),
        bill_ref_number=_optional_text(payload, "BillRefNumber", where="payload").upper(),
        msisdn=_optional_text(payload, "MSISDN", where="payload"),
        first_name=_optional_text(payload, "FirstName", where="payload"),
        middle_name=_optional_text(payload, "MiddleName", where="payload"),
        last_name=_optional_text(payload, "LastName", where="payload"),
        org_account_balance=_informational_amount(payload.get("OrgAccountBalance")),
        invoice_number=_optional_text(payload, "InvoiceNumber", where="payload"),
        third_party_trans_id=_optional_text(payload, "ThirdPartyTransID", where="payload"),
    )


def _informational_amount(value: object) -> Decimal | None:
    """OrgAccountBalance: the paybill's balance after the payment, for information only,
    so an unreadable one is left out rather than holding up the payment it came with."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return _amount(value, "OrgAccountBalance")
    except MalformedCallback:
        return None


def _require(container: Mapping[str, object], key: str, *, where: str) -> object:
    if key not in container or container[key] is None:
        raise MalformedCallback(f"{where} has no {key}")
    return container[key]


def _mapping(value: object, name: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise MalformedCallback(f"{name} must be an object, not {type(value).__name__}")
    return value


def _text(value: object, name: str) -> str:
    """A string, or an integer written as one (Safaricom is not consistent about which)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedCallback(f"{name} must be text, not {type(value).__name__}")
    try:
        text = str(value).strip()
    except ValueError as exc:  # an integer too long to print (Python's digit limit)
        raise MalformedCallback(f"{name} is an integer too long to be text") from exc
    if "\x00" in text:
        # PostgreSQL keeps no NUL in text: it could not be stored, and M-Pesa sends none.
        raise MalformedCallback(f"{name} contains a NUL character")
    return text


def _required_text(container: Mapping[str, object], key: str, *, where: str) -> str:
    text = _text(_require(container, key, where=where), key)
    if not text:
        raise MalformedCallback(f"{where} has an empty {key}")
    return text


def _optional_text(container: Mapping[str, object], key: str, *, where: str) -> str:
    value = container.get(key)
    return "" if value is None else _text(value, f"{where} {key}")


def _result_code(value: object) -> int:
    text = _text(value, "ResultCode") if not isinstance(value, float) else ""
    if not _RESULT_CODE.fullmatch(text):
        raise MalformedCallback(f"ResultCode must be a whole number, not {value!r:.40}")
    return int(text)


def _amount(value: object, name: str) -> Decimal:
    """Shillings as Decimal; a float is read through its shortest text form, never as binary."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise MalformedCallback(f"{name} must be a number, not {type(value).__name__}")
    try:
        text = str(value).strip()
    except ValueError as exc:
        raise MalformedCallback(f"{name} is a number too long to be an amount") from exc
    if not is_ascii_amount(text):
        raise MalformedCallback(f"{name} is not a number: {text!r:.40}")
    amount = Decimal(text)
    if amount < 0:
        raise MalformedCallback(f"{name} must not be negative, not {text:.40}")
    if amount > _MAX_AMOUNT:
        raise MalformedCallback(f"{name} is too large to be an amount: {text:.40}")
    # Checked after the size, so quantize stays within Decimal's precision.
    cents = amount.quantize(CENT)
    if cents != amount:
        raise MalformedCallback(f"{name} has more than two decimal places: {text:.40}")
    return cents


def _timestamp(value: object, name: str) -> datetime:
    """`YYYYMMDDHHmmss` in Nairobi time (a number in STK callbacks, text in C2B)."""
    text = _text(value, name) if not isinstance(value, float) else ""
    if not _TIMESTAMP.fullmatch(text):
        raise MalformedCallback(f"{name} must be 14 digits YYYYMMDDHHmmss, not {value!r:.40}")
    try:
        naive = datetime.strptime(text, "%Y%m%d%H%M%S")
    except ValueError as exc:
        raise MalformedCallback(f"{name} is not a real date and time: {text}") from exc
    return naive.replace(tzinfo=NAIROBI)


def _phone(value: object) -> str | None:
    """The payer's number, informational (the prompt has it too): one that is not plain
    ASCII digits is left out rather than holding up the payment."""
    # JSON numbers arrive as int; a float with no fraction is the same number written oddly.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    try:
        text = _text(value, "PhoneNumber")
    except MalformedCallback:
        return None
    return text if _PHONE_DIGITS.fullmatch(text) else None


def _metadata_items(callback: Mapping[str, object]) -> dict[str, object]:
    """`CallbackMetadata.Item` as name -> value; items with no `Value` are left out."""
    metadata = _mapping(
        _require(callback, "CallbackMetadata", where="a successful stkCallback"),
        "CallbackMetadata",
    )
    raw_items = _require(metadata, "Item", where="CallbackMetadata")
    # A lone item is sometimes sent as an object rather than a list of one.
    items = [raw_items] if isinstance(raw_items, Mapping) else raw_items
    if not isinstance(items, list):
        raise MalformedCallback(
            f"CallbackMetadata.Item must be a list, not {type(raw_items).__name__}"
        )
    found: dict[str, object] = {}
    for item in items:
        entry = _mapping(item, "CallbackMetadata.Item entry")
        name = entry.get("Name")
        if isinstance(name, str) and entry.get("Value") is not None:
            found[name] = entry["Value"]
    return found
