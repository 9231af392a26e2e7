"""Bills as staff find them: scoped to the departments where they may view bills (and the
viewers the raising app registered in `payments.bill_access`), a bill's payments and history."""

from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet

from kaunti.accounts.models import UserKind
from kaunti.accounts.permissions import (
    department_ids_where,
    has_permission_in_any,
    require_permission,
)
from kaunti.core.identifiers import normalise_phone
from kaunti.core.models import AuditEvent, Department
from kaunti.payments import bill_access
from kaunti.payments.models import (
    Bill,
    BillStatus,
    Payment,
    Receipt,
    RevenueStream,
)
from kaunti.payments.numbering import is_valid_bill_number, normalise_bill_number

VIEW_BILLS = "payments.view_bills"


def get_active_staff_by_username(*, username: str) -> Any | None:
    """An active staff member, named by their username (e.g. who asked for a cancellation)."""
    return (
        get_user_model()
        .objects.filter(username=username.strip(), is_active=True, kind=UserKind.STAFF)
        .first()
    )


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


def require_view_bill(user: Any, bill: Bill) -> None:
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
        require_view_bill(user, bill)
    else:
        require_permission(user, action, bill.department)
    return bill


def looks_like_bill_number(raw: str) -> bool:
    """Whether `raw` reads as a bill number with a correct check character (catches most
    typing mistakes before any lookup). Other apps ask this rather than reading payments'
    numbering rules."""
    return is_valid_bill_number(raw)


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
