"""Reads of the payments app that are more than a one-line queryset.

Every read a person reaches is scoped to them. Staff lists show the departments where
they hold a role granting the action (and those departments' directorates); a staff
lookup of one bill or receipt (`access_*`) returns None when there is none and raises
`PermissionDenied` when it belongs to a department they may not act in. Citizens see
only the bills raised in their name: anything else is None, so the view answers 404 and
nobody learns which numbers exist. A bill's viewers also include those the app that
raised it registered in `payments.bill_access` (land rates: the Revenue Directorate).

This module holds the reads of bills, receipts, tills and citizens' pages; the revenue
reports, the dashboard and reconciliation results read through `selectors.reports`.
"""

from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet, Sum

from kaunti.accounts.models import UserKind
from kaunti.accounts.permissions import (
    department_ids_where,
    has_permission_in_any,
    require_permission,
)
from kaunti.core.identifiers import normalise_phone
from kaunti.core.models import AuditEvent, Department
from kaunti.core.money import ZERO
from kaunti.payments import bill_access
from kaunti.payments.models import (
    Bill,
    BillStatus,
    Channel,
    Payment,
    Receipt,
    RevenueStream,
    StkRequest,
    TillSession,
    TillStatus,
)
from kaunti.payments.numbering import normalise_bill_number

VIEW_BILLS = "payments.view_bills"

# --- Departments and staff --------------------------------------------------------------


def get_active_staff_by_username(*, username: str) -> Any | None:
    """An active staff member, named by their username (e.g. who asked for a cancellation)."""
    return (
        get_user_model()
        .objects.filter(username=username.strip(), is_active=True, kind=UserKind.STAFF)
        .first()
    )


# --- Bills (staff) ----------------------------------------------------------------------


def _bill_search_filter(query: str) -> Q:
    """A bill number, a phone number in any Kenyan form, or part of the payer's name."""
    number = normalise_bill_number(query)
    condition = Q(number=number) | Q(payer_name__icontains=query)
    with suppress(ValidationError):  # not a phone number: the number and the name only
        condition |= Q(payer_phone=normalise_phone(query))
    return condition


def bills_viewable_by(user: Any) -> QuerySet[Bill]:
    """The bills `user` may view: those of the departments where they hold a role that
    views bills (with their directorates), and those of the source types registered as
    seen from one of those departments (`payments.bill_access`)."""
    department_ids = department_ids_where(user, VIEW_BILLS)
    visible = Q(department_id__in=department_ids)
    registered = bill_access.registered_department_codes()
    if department_ids and registered:
        codes = Department.objects.filter(pk__in=department_ids, code__in=registered)
        source_types = bill_access.source_types_viewed_from(codes.values_list("code", flat=True))
        if source_types:
            visible |= Q(source_type__in=source_types)
    return Bill.objects.filter(visible)


def list_bills_for_staff(*, user: Any, query: str = "", status: str = "") -> QuerySet[Bill]:
    """Bills `user` may view (`bills_viewable_by`), newest first, searched."""
    bills = bills_viewable_by(user).select_related("department")
    if query.strip():
        bills = bills.filter(_bill_search_filter(query.strip()))
    if status:
        bills = bills.filter(status=status)
    return bills.order_by("-created_at", "-pk")


def may_view_bills_of(*, user: Any, department: Department, source_type: str = "") -> bool:
    """May `user` view the bills raised under `department` for `source_type`? Their own
    department's bill viewers may, and so may those of any department registered for the
    source type (one query for the roles; one more when a department is registered)."""
    departments = [department]
    codes = bill_access.viewing_department_codes(source_type) - {department.code}
    if codes:
        departments += list(Department.objects.filter(code__in=codes))
    return has_permission_in_any(user, VIEW_BILLS, departments)


def _require_view(user: Any, bill: Bill) -> None:
    if not may_view_bills_of(user=user, department=bill.department, source_type=bill.source_type):
        raise PermissionDenied(VIEW_BILLS)


def access_bill_for_staff(*, user: Any, number: str, action: str = VIEW_BILLS) -> Bill | None:
    """One bill by number: None when there is none, `PermissionDenied` when `user` may not
    do `action` in its department (staff may learn that a number exists, citizens may not).
    Viewing also follows `may_view_bills_of`; acting on a bill stays with its department.
    """
    bill = (
        Bill.objects.filter(number=normalise_bill_number(number))
        .select_related("department", "ward", "created_by")
        .first()
    )
    if bill is None:
        return None
    if action == VIEW_BILLS:
        _require_view(user, bill)
    else:
        require_permission(user, action, bill.department)
    return bill


def get_bill_for_counter(*, number: str) -> Bill | None:
    """A bill a cashier may take money for: any department's, unless it is cancelled.

    County counters collect for every department, so this read is not department-scoped;
    the counter pages that use it are limited to cashiers (`payments.receive_payment`).
    """
    return (
        Bill.objects.filter(number=normalise_bill_number(number))
        .exclude(status=BillStatus.CANCELLED)
        .select_related("department")
        .first()
    )


@dataclass(frozen=True)
class BillPaymentRow:
    payment: Payment
    receipt: Receipt | None
    is_cancelled: bool


def list_bill_payments(*, bill: Bill) -> list[BillPaymentRow]:
    """The payments on a bill with their receipts and whether each receipt was cancelled."""
    payments = (
        Payment.objects.filter(bill=bill)
        .select_related("receipt", "receipt__cancellation", "received_by")
        .order_by("paid_at", "pk")
    )
    rows = []
    for payment in payments:
        receipt = getattr(payment, "receipt", None)
        cancelled = receipt is not None and hasattr(receipt, "cancellation")
        rows.append(BillPaymentRow(payment=payment, receipt=receipt, is_cancelled=cancelled))
    return rows


def list_bill_history(*, bill: Bill) -> QuerySet[AuditEvent]:
    """The audit events about a bill, its payments and its receipts, oldest first."""
    payment_ids = [str(pk) for pk in Payment.objects.filter(bill=bill).values_list("pk", flat=True)]
    receipt_ids = [
        str(pk) for pk in Receipt.objects.filter(payment__bill=bill).values_list("pk", flat=True)
    ]
    return AuditEvent.objects.filter(
        Q(target_type="payments.bill", target_id=str(bill.pk))
        | Q(target_type="payments.payment", target_id__in=payment_ids)
        | Q(target_type="payments.receipt", target_id__in=receipt_ids)
    ).order_by("occurred_at", "pk")


def list_miscellaneous_streams(*, user: Any) -> QuerySet[RevenueStream]:
    """The price-list streams `user` may raise bills for directly (STYLE: scoped reads)."""
    return (
        RevenueStream.objects.filter(
            is_miscellaneous=True,
            is_active=True,
            department_id__in=department_ids_where(user, "payments.raise_bill"),
        )
        .select_related("department")
        .order_by("name")
    )


# --- Receipts ---------------------------------------------------------------------------


def _receipts() -> QuerySet[Receipt]:
    return Receipt.objects.select_related(
        "payment",
        "payment__bill",
        "payment__bill__department",
        "payment__till_session",
        "payment__received_by",
    )


def access_receipt_for_staff(*, user: Any, number: str) -> Receipt | None:
    """A receipt by number, for staff who may view its bill's department or the cashier
    whose till took it (a suspense payment's receipt: for those who review suspense).

    None when there is no such receipt; `PermissionDenied` when `user` may not see it.
    """
    receipt = _receipts().filter(number=number.strip().upper()).first()
    if receipt is None:
        return None
    payment = receipt.payment
    till = payment.till_session
    if till is not None and till.cashier_id == getattr(user, "pk", None):
        return receipt
    if payment.bill is None:
        require_permission(user, "payments.review_suspense")
    else:
        _require_view(user, payment.bill)
    return receipt


def access_receipt_for_cancellation(*, user: Any, number: str) -> Receipt | None:
    """A receipt a supervisor is about to cancel: None when there is no such receipt,
    `PermissionDenied` unless `user` may cancel receipts in its bill's department."""
    receipt = _receipts().filter(number=number.strip().upper()).first()
    if receipt is None:
        return None
    bill = receipt.payment.bill
    require_permission(user, "payments.cancel_receipt", bill.department if bill else None)
    return receipt


def is_receipt_cancelled(receipt: Receipt) -> bool:
    return hasattr(receipt, "cancellation")


# --- Suspense ---------------------------------------------------------------------------


def list_suspense_payments() -> QuerySet[Payment]:
    """Payments whose bill could not be found, oldest first (the review queue)."""
    return (
        Payment.objects.filter(is_in_suspense=True)
        .select_related("receipt")
        .order_by("paid_at", "pk")
    )


def get_suspense_payment(*, public_id: UUID) -> Payment | None:
    return list_suspense_payments().filter(public_id=public_id).first()


# --- Tills ------------------------------------------------------------------------------


def get_open_till(*, cashier: Any) -> TillSession | None:
    """The cashier's open till, if any (at most one: `till_one_open_per_cashier`)."""
    if not getattr(cashier, "is_authenticated", False):
        return None
    return (
        TillSession.objects.filter(cashier=cashier, status=TillStatus.OPEN)
        .select_related("department")
        .first()
    )


def get_till_for_user(*, user: Any, public_id: UUID) -> TillSession | None:
    """A till session of the signed-in cashier (their own tills only)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        TillSession.objects.filter(cashier=user, public_id=public_id)
        .select_related("department")
        .first()
    )


def list_till_payments(*, till: TillSession) -> QuerySet[Payment]:
    """The payments taken at a till, newest first, with their receipts and bills."""
    return (
        Payment.objects.filter(till_session=till)
        .select_related("receipt", "receipt__cancellation", "bill")
        .order_by("-paid_at", "-pk")
    )


@dataclass(frozen=True)
class TillTotals:
    """What a till took, per channel, and the cash that should be in the drawer."""

    opening_float: Decimal
    cash_received: Decimal
    cash_cancelled: Decimal
    bank_received: Decimal
    cheques_received: Decimal
    payment_count: int
    cancelled_count: int

    @property
    def expected_cash(self) -> Decimal:
        return self.opening_float + self.cash_received - self.cash_cancelled


def _sum(payments: QuerySet[Payment]) -> Decimal:
    return payments.aggregate(total=Sum("amount"))["total"] or ZERO


def get_till_totals(*, till: TillSession) -> TillTotals:
    """Totals of a till: expected cash is the float plus cash taken less cash handed back
    when a receipt was cancelled."""
    payments = Payment.objects.filter(till_session=till)
    cancelled = payments.filter(receipt__cancellation__isnull=False)
    return TillTotals(
        opening_float=till.opening_float,
        cash_received=_sum(payments.filter(channel=Channel.CASH)),
        cash_cancelled=_sum(cancelled.filter(channel=Channel.CASH)),
        bank_received=_sum(payments.filter(channel=Channel.BANK)),
        cheques_received=_sum(payments.filter(channel=Channel.CHEQUE)),
        payment_count=payments.count(),
        cancelled_count=cancelled.count(),
    )


# --- Citizens ---------------------------------------------------------------------------


def list_citizen_bills(*, user: Any) -> QuerySet[Bill]:
    """The bills raised in the signed-in person's name, newest first."""
    if not getattr(user, "is_authenticated", False):
        return Bill.objects.none()
    return Bill.objects.filter(payer_user=user).order_by("-created_at", "-pk")


def get_citizen_bill(*, user: Any, number: str) -> Bill | None:
    return list_citizen_bills(user=user).filter(number=normalise_bill_number(number)).first()


def list_citizen_receipts(*, bills: Iterable[Bill]) -> dict[int, list[Receipt]]:
    """The receipts of each of the given bills, by bill id (one query)."""
    by_bill: dict[int, list[Receipt]] = {}
    receipts = (
        Receipt.objects.filter(payment__bill__in=list(bills))
        .select_related("payment", "cancellation")
        .order_by("issued_at", "pk")
    )
    for receipt in receipts:
        bill_id = receipt.payment.bill_id
        if bill_id is not None:
            by_bill.setdefault(bill_id, []).append(receipt)
    return by_bill


def get_citizen_receipt(*, user: Any, number: str) -> Receipt | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return _receipts().filter(number=number.strip().upper(), payment__bill__payer_user=user).first()


def get_citizen_stk_request(*, user: Any, bill: Bill, public_id: UUID) -> StkRequest | None:
    """A prompt sent for one of the person's bills."""
    if not getattr(user, "is_authenticated", False):
        return None
    return StkRequest.objects.filter(public_id=public_id, bill=bill, bill__payer_user=user).first()
