"""What the simulator is told at start: credentials, behaviour switches, scripted outcomes."""

from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from kaunti.payments.mpesa.protocol import (
    C2B_REGISTER_VERSIONS,
    SANDBOX_PASSKEY,
    SANDBOX_SHORTCODE,
    STK_RESULT_DESCRIPTIONS,
    StkResultCode,
)


class Outcome(StrEnum):
    """How an STK push ends. `PHONE` waits for a person to answer on the phone page."""

    SUCCESS = "success"
    CANCELLED = "cancelled"
    UNREACHABLE = "unreachable"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    WRONG_PIN = "wrong_pin"
    EXPIRED = "expired"
    SUBSCRIBER_LOCKED = "subscriber_locked"
    PUSH_FAILED = "push_failed"
    PHONE = "phone"

    @property
    def result_code(self) -> StkResultCode:
        if self is Outcome.PHONE:
            raise ValueError("the phone outcome is decided by a person, not in advance")
        return _RESULT_CODES[self]

    @property
    def result_desc(self) -> str:
        return STK_RESULT_DESCRIPTIONS[self.result_code]


_RESULT_CODES: Final = MappingProxyType(
    {
        Outcome.SUCCESS: StkResultCode.SUCCESS,
        Outcome.CANCELLED: StkResultCode.CANCELLED_BY_USER,
        Outcome.UNREACHABLE: StkResultCode.USER_UNREACHABLE,
        Outcome.INSUFFICIENT_FUNDS: StkResultCode.INSUFFICIENT_FUNDS,
        Outcome.WRONG_PIN: StkResultCode.WRONG_PIN,
        Outcome.EXPIRED: StkResultCode.EXPIRED,
        Outcome.SUBSCRIBER_LOCKED: StkResultCode.SUBSCRIBER_LOCKED,
        Outcome.PUSH_FAILED: StkResultCode.PUSH_FAILED,
    }
)

# The answers a person can give on the phone page, and what each one means.
PHONE_ANSWERS: Final = MappingProxyType(
    {
        "pay": Outcome.SUCCESS,
        "cancel": Outcome.CANCELLED,
        "wrong_pin": Outcome.WRONG_PIN,
        "insufficient_funds": Outcome.INSUFFICIENT_FUNDS,
    }
)


class DeliveryMode(StrEnum):
    """How the STK callback reaches the CallBackURL, whatever the outcome."""

    ONCE = "once"
    TWICE = "twice"
    LATE = "late"
    NEVER = "never"


class MsisdnMode(StrEnum):
    """How the payer's number appears in C2B payloads (Safaricom has used all three)."""

    PLAIN = "plain"
    HASHED = "hashed"
    MASKED = "masked"


@dataclass(frozen=True)
class Script:
    """The scripted end of a push: its outcome, how the callback is delivered, and the delay
    before a `LATE` delivery."""

    outcome: Outcome = Outcome.SUCCESS
    delivery: DeliveryMode = DeliveryMode.ONCE
    delay_seconds: float = 5.0


@dataclass(frozen=True)
class SimulatorConfig:
    """Everything the simulator is started with; the defaults are Safaricom's sandbox values.

    `processing_seconds` is how long a scripted push stays pending before its outcome
    (a customer reading the prompt); `prompt_timeout_seconds` ends an unanswered phone
    prompt as 1037 "user cannot be reached" (None: wait for ever).
    """

    host: str = "127.0.0.1"
    port: int = 0
    consumer_key: str = "demo"
    consumer_secret: str = field(default="demo", repr=False)
    shortcode: str = SANDBOX_SHORTCODE
    passkey: str = field(default=SANDBOX_PASSKEY, repr=False)
    validation: bool = False
    msisdn_mode: MsisdnMode = MsisdnMode.PLAIN
    script: Script = Script()
    processing_seconds: float = 0.0
    prompt_timeout_seconds: float | None = None
    token_lifetime_seconds: int = 3600
    callback_timeout_seconds: float = 5.0
    c2b_register_versions: tuple[str, ...] = C2B_REGISTER_VERSIONS
    # Refuse C2B URLs with words Safaricom is said to reject ("mpesa", "query"...).
    refuse_forbidden_url_words: bool = True
    # A second push to a phone that still shows a prompt fails as on a real phone.
    lock_subscriber_while_prompted: bool = True

    def __post_init__(self) -> None:
        unknown = set(self.c2b_register_versions) - set(C2B_REGISTER_VERSIONS)
        if unknown:
            raise ValueError(f"unknown C2B register versions: {sorted(unknown)}")
        if self.token_lifetime_seconds < 2:
            raise ValueError("token_lifetime_seconds must be at least 2")
