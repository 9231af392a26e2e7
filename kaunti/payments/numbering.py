"""Bill numbers (M-Pesa account references), receipt numbers and financial years.

A bill number is 8 random characters and a Luhn mod N check character from an alphabet
with no look-alikes (no 0/O, 1/I/L, 2/Z, 5/S, 8/B): 9 characters, well within M-Pesa's
12, readable aloud and typed into a phone without confusion. The check character
catches any single mistyped character and most swaps of neighbours.
"""

import secrets

# The year a receipt is numbered in is core's, for every app; payments' modules read it here.
from kaunti.core.money import financial_year as financial_year

BILL_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
BILL_BODY_LENGTH = 8
_N = len(BILL_ALPHABET)


def _luhn_sum(text: str, *, start_factor: int) -> int:
    factor, total = start_factor, 0
    for char in reversed(text):
        addend = factor * BILL_ALPHABET.index(char)
        factor = 1 if factor == 2 else 2
        total += addend // _N + addend % _N
    return total


def check_character(body: str) -> str:
    return BILL_ALPHABET[(_N - _luhn_sum(body, start_factor=2) % _N) % _N]


def new_bill_number() -> str:
    body = "".join(secrets.choice(BILL_ALPHABET) for _ in range(BILL_BODY_LENGTH))
    return body + check_character(body)


def new_bill_numbers(count: int) -> list[str]:
    """`count` bill numbers drawn as `new_bill_number` draws one, from one call to the
    system's random source instead of eight per number: a million numbers take a second,
    not a minute. Uniqueness is the database's to enforce, as for one."""
    numbers: list[str] = []
    limit = 256 - 256 % _N  # bytes at or above it would favour some symbols
    while len(numbers) < count:
        wanted = (count - len(numbers)) * BILL_BODY_LENGTH
        symbols = [
            BILL_ALPHABET[byte % _N]
            for byte in secrets.token_bytes(wanted + wanted // 8 + 16)
            if byte < limit
        ]
        for start in range(0, len(symbols) - BILL_BODY_LENGTH + 1, BILL_BODY_LENGTH):
            if len(numbers) == count:
                break
            body = "".join(symbols[start : start + BILL_BODY_LENGTH])
            numbers.append(body + check_character(body))
    return numbers


def normalise_bill_number(raw: str) -> str:
    """What a payer typed, as we store it: upper case, no spaces or dashes."""
    return "".join(ch for ch in (raw or "").upper() if ch not in " -_./")


def is_valid_bill_number(raw: str) -> bool:
    number = normalise_bill_number(raw)
    if len(number) != BILL_BODY_LENGTH + 1 or any(ch not in BILL_ALPHABET for ch in number):
        return False
    return _luhn_sum(number, start_factor=1) % _N == 0


def receipt_number(*, year: int, sequence: int) -> str:
    """`RCT2627-000001`: the financial year's two halves, then the sequence."""
    return f"RCT{year % 100:02d}{(year + 1) % 100:02d}-{sequence:06d}"
