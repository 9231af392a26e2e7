"""Settlement handlers: how `payments` tells an owning app that its bill is paid.

An app that raises bills registers, in its `AppConfig.ready`, a handler for its source
type. `payments` calls it inside the transaction that settles the bill and knows nothing
else about the source. The registry is filled once at start-up, identically on every
node, and never changed afterwards.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kaunti.payments.models import Bill

SettlementHandler = Callable[["Bill"], None]

_handlers: dict[str, SettlementHandler] = {}


def register_settlement_handler(source_type: str, handler: SettlementHandler) -> None:
    existing = _handlers.get(source_type)
    if existing is not None and existing is not handler:
        raise ValueError(f"a settlement handler for {source_type!r} is already registered")
    _handlers[source_type] = handler


def settle(bill: "Bill") -> None:
    """Run the owner's handler for a bill that has just become fully paid."""
    handler = _handlers.get(bill.source_type)
    if handler is not None:
        handler(bill)
