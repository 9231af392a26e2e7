"""A local Daraja: the sandbox's endpoints and wire formats on a real HTTP port.

Tests and demos drive the real `DarajaClient` against it, and it POSTs STK callbacks and
C2B validation/confirmation to our URLs exactly as Safaricom does, with scripted outcomes
(success, cancelled, unreachable, insufficient funds, wrong PIN...; delivered once, twice,
late or never) or a phone page where a person answers. No Django, no extra dependencies:
it runs beside `make run` as `python -m kaunti.simulators.daraja`
(shared/reference/kenya.md 1.9).
"""

from kaunti.simulators.daraja.config import (
    DeliveryMode,
    MsisdnMode,
    Outcome,
    Script,
    SimulatorConfig,
)
from kaunti.simulators.daraja.records import (
    C2BResult,
    CallbackDelivery,
    DeliveryKind,
    Push,
)
from kaunti.simulators.daraja.server import DarajaSimulator

__all__ = [
    "C2BResult",
    "CallbackDelivery",
    "DarajaSimulator",
    "DeliveryKind",
    "DeliveryMode",
    "MsisdnMode",
    "Outcome",
    "Push",
    "Script",
    "SimulatorConfig",
]
