"""Which Daraja app, shortcode and callback host the client talks for.

The lead wires it from settings (`MPESA_*`); frozen, so one config is shared safely by
every request and task. Secrets are left out of its repr so they never reach a log.
"""

import re
from dataclasses import dataclass, field
from typing import Final, Literal
from urllib.parse import urlsplit

from kaunti.payments.mpesa.protocol import C2B_REGISTER_VERSIONS, STK_TRANSACTION_TYPES

DIGITS: Final = re.compile(r"^[0-9]+$")

C2BRegisterVersion = Literal["v1", "v2"]


@dataclass(frozen=True)
class DarajaConfig:
    """One Daraja app and shortcode; `callback_base_url` is where Safaricom reaches us."""

    base_url: str
    consumer_key: str
    consumer_secret: str = field(repr=False)
    shortcode: str
    passkey: str = field(repr=False)
    callback_base_url: str
    # The version must match the API product on the Daraja app (kenya.md 1.5.1).
    c2b_register_version: C2BRegisterVersion
    transaction_type: str = "CustomerPayBillOnline"

    def __post_init__(self) -> None:
        if urlsplit(self.base_url).scheme not in ("http", "https"):
            raise ValueError(f"Daraja base_url must be an http(s) URL, not {self.base_url!r}")
        if not DIGITS.match(self.shortcode):
            raise ValueError(f"Daraja shortcode must be digits, not {self.shortcode!r}")
        if self.c2b_register_version not in C2B_REGISTER_VERSIONS:
            raise ValueError(
                f"c2b_register_version must be v1 or v2, not {self.c2b_register_version!r}"
            )
        if self.transaction_type not in STK_TRANSACTION_TYPES:
            raise ValueError(
                f"transaction_type must be one of {STK_TRANSACTION_TYPES}, "
                f"not {self.transaction_type!r}"
            )

    def callback_url(self, path: str) -> str:
        """The public URL Safaricom should call for `path` on our side."""
        return f"{self.callback_base_url.rstrip('/')}/{path.lstrip('/')}"
