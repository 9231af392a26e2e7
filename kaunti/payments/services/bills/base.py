"""What every way of raising a bill shares: the payer and the key their credit is kept
under, the ledger accounts a bill is booked to, and the bill's row itself.

`create_bill` (one bill), `raise_bills` (many, built in Python) and `raise_bills_by_query`
(many, computed by PostgreSQL in one statement) all build their bills from here; the last
writes the same columns in SQL, and `payer_key_sql` is `payer_key_for` there.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from kaunti.core.models import Department
from kaunti.payments.models import Bill

RECEIVABLES = "1200"
PAYER_CREDITS = "2200"


@dataclass(frozen=True)
class Payer:
    name: str
    phone: str = ""
    id_number: str = ""
    kra_pin: str = ""
    user: Any | None = None


def payer_key_for(payer: Payer) -> str:
    """The identity a payer's credit is kept under: ID number, else KRA PIN, else phone."""
    if payer.id_number:
        return f"id:{payer.id_number}"
    if payer.kra_pin:
        return f"pin:{payer.kra_pin}"
    if payer.phone:
        return f"phone:{payer.phone}"
    return f"name:{payer.name.strip().lower()[:34]}"


def payer_key_sql(*, name: str, phone: str, id_number: str, kra_pin: str) -> str:
    """`payer_key_for` as a SQL expression of the columns named (empty strings, not NULLs)."""
    return (
        f"CASE WHEN {id_number} <> '' THEN 'id:' || {id_number}"
        f" WHEN {kra_pin} <> '' THEN 'pin:' || {kra_pin}"
        f" WHEN {phone} <> '' THEN 'phone:' || {phone}"
        f" ELSE 'name:' || left(lower(btrim({name})), 34) END"
    )


def acting_user(actor: Any | None) -> Any | None:
    """The user a bill records as its author: None for the system or anyone not signed in."""
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def new_bill(
    *,
    number: str,
    payer: Payer,
    department: Department,
    ward_id: int | None,
    description: str,
    description_sw: str,
    due_on: date,
    total: Decimal,
    source_type: str,
    source_ref: str,
    actor: Any | None,
) -> Bill:
    """An unsaved open bill: its descriptions cut to the column's 200 characters."""
    return Bill(
        number=number,
        payer_name=payer.name,
        payer_phone=payer.phone,
        payer_id_number=payer.id_number,
        payer_kra_pin=payer.kra_pin,
        payer_key=payer_key_for(payer),
        payer_user=payer.user,
        department=department,
        ward_id=ward_id,
        description=description[:200],
        description_sw=description_sw[:200],
        due_on=due_on,
        total=total,
        source_type=source_type,
        source_ref=source_ref,
        created_by=acting_user(actor),
    )
