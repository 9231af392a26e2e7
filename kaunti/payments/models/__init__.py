"""The payments app's tables, one module per thing they hold:

- `bills`: revenue streams, bills and their lines, bill cancellations;
- `receipts`: payments, allocations, payer credits, receipts and their cancellations;
- `mpesa`: STK prompts and the callbacks Safaricom sends;
- `counter`: cashiers' till sessions;
- `daily_collections`: the collections the revenue reports read;
- `reconciliation`: imported statements and their lines.

Money rows are never edited or deleted: a mistake is undone by a reversal row (a
negative allocation, a cancellation, a reversing journal entry). Everything is
re-exported here: callers import `kaunti.payments.models`.
"""

from kaunti.payments.models.bills import (
    Bill,
    BillCancellation,
    BillLine,
    BillStatus,
    RevenueStream,
)
from kaunti.payments.models.counter import (
    TillSession,
    TillStatus,
)
from kaunti.payments.models.daily_collections import (
    DailyCollection,
    DailyStreamCollection,
    MonthlyCollection,
)
from kaunti.payments.models.mpesa import (
    CallbackDrain,
    CallbackStatus,
    InboundCallback,
    StkRequest,
    StkStatus,
)
from kaunti.payments.models.receipts import (
    Allocation,
    Channel,
    PayerCredit,
    Payment,
    Receipt,
    ReceiptCancellation,
    ReceiptSequence,
)
from kaunti.payments.models.reconciliation import (
    LineDecision,
    MatchStatus,
    StatementImport,
    StatementKind,
    StatementLine,
)

__all__ = [
    "Allocation",
    "Bill",
    "BillCancellation",
    "BillLine",
    "BillStatus",
    "CallbackDrain",
    "CallbackStatus",
    "Channel",
    "DailyCollection",
    "DailyStreamCollection",
    "InboundCallback",
    "LineDecision",
    "MatchStatus",
    "MonthlyCollection",
    "PayerCredit",
    "Payment",
    "Receipt",
    "ReceiptCancellation",
    "ReceiptSequence",
    "RevenueStream",
    "StatementImport",
    "StatementKind",
    "StatementLine",
    "StkRequest",
    "StkStatus",
    "TillSession",
    "TillStatus",
]
