"""What land does when payments settles one of its bills (source type `land.rates`).

Land keeps no balance of its own: statements read the bills and their allocations, so a
payment shows at once. The handler records on the audit chain that the parcel's charge
was settled, inside the settling transaction.
"""

from kaunti.core.services.audit import record_event
from kaunti.land.models import ParcelCharge
from kaunti.payments.models import Bill


def handle_rates_bill_settled(bill: Bill) -> None:
    """Called by payments inside the transaction that settles a land rates bill."""
    charge = ParcelCharge.objects.select_related("parcel").filter(bill=bill).first()
    if charge is None:  # raised by land but its charge not yet written: nothing to note
        return
    record_event(
        actor=None,
        action="land.charge_settled",
        target=charge.parcel,
        data={"bill": bill.number, "kind": charge.kind, "year": charge.financial_year},
    )
