"""Raising and cancelling bills, and a payer's credit on them (ARCHITECTURE.md, "The money
path": the first step). Only payments writes bills: another app raises its bills here.

- one bill, priced from the price list, at once booked and paid from credit: `create_bill`
  (`single`);
- many bills of one line for a run, built in Python: `raise_bills` (`bulk`);
- many bills of one line computed by PostgreSQL from the caller's tables in one
  statement, for runs of a million (ADR 9): `plan_bill_query`, then
  `raise_bills_by_query` per chunk (`query`);
- a payer's credit, used on bills raised in bulk once their run is done:
  `apply_payer_credits` (`credit`).
"""

from kaunti.payments.services.bills.base import PAYER_CREDITS, RECEIVABLES, Payer, payer_key_for
from kaunti.payments.services.bills.bulk import Booking, BulkTerms, NewBill, raise_bills
from kaunti.payments.services.bills.credit import (
    apply_held_credits,
    apply_payer_credit,
    apply_payer_credits,
    credit_balance,
    lock_payer_credit,
    payer_keys_with_credit,
)
from kaunti.payments.services.bills.query import (
    BILL_COLUMNS,
    BillQuery,
    QueryPlan,
    QueryRaised,
    plan_bill_query,
    raise_bills_by_query,
)
from kaunti.payments.services.bills.single import LineInput, cancel_bill, create_bill

__all__ = [
    "BILL_COLUMNS",
    "PAYER_CREDITS",
    "RECEIVABLES",
    "BillQuery",
    "Booking",
    "BulkTerms",
    "LineInput",
    "NewBill",
    "Payer",
    "QueryPlan",
    "QueryRaised",
    "apply_held_credits",
    "apply_payer_credit",
    "apply_payer_credits",
    "cancel_bill",
    "create_bill",
    "credit_balance",
    "lock_payer_credit",
    "payer_key_for",
    "payer_keys_with_credit",
    "plan_bill_query",
    "raise_bills",
    "raise_bills_by_query",
]
