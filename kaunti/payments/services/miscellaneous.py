"""Miscellaneous bills: a revenue officer charges a price-list item on the spot (market
fees, produce cess, machinery hire...), for the streams the Finance Act lets officers bill
directly (`RevenueStream.is_miscellaneous`)."""

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kaunti.accounts.permissions import has_permission
from kaunti.core.models import Ward
from kaunti.core.money import format_kes
from kaunti.payments.models import Bill, RevenueStream
from kaunti.payments.services.bills import LineInput, Payer, create_bill

# Market fees and cess are paid at once; a bill left unpaid is followed up after two weeks.
DAYS_TO_PAY = 14


@transaction.atomic
def raise_miscellaneous_bill(
    *, officer: Any, payer: Payer, lines: Sequence[LineInput], ward: Ward | None = None
) -> Bill:
    """Raise a bill for miscellaneous streams of one department where `officer` may raise
    bills. A typed price is taken only for a stream the price list leaves unpriced."""
    if not lines:
        raise ValidationError(_("Choose at least one item to charge."))
    streams = {
        stream.code: stream
        for stream in RevenueStream.objects.filter(
            code__in={line.stream_code for line in lines}
        ).select_related("department")
    }
    chosen: list[RevenueStream] = []
    for line in lines:
        stream = streams.get(line.stream_code)
        if stream is None or not (stream.is_miscellaneous and stream.is_active):
            raise ValidationError(
                _("%(code)s cannot be billed here: choose an item from the price list.")
                % {"code": line.stream_code}
            )
        if (
            stream.unit_price is not None
            and line.unit_price is not None
            and line.unit_price != stream.unit_price
        ):
            raise ValidationError(
                _("%(name)s costs %(price)s a unit by the price list: leave its price empty.")
                % {"name": stream.localized_name, "price": format_kes(stream.unit_price)}
            )
        chosen.append(stream)
    departments = {stream.department for stream in chosen}
    if len(departments) != 1:
        raise ValidationError(
            _("Every item on a bill must belong to one department. Raise a bill for each.")
        )
    department = departments.pop()
    if not has_permission(officer, "payments.raise_bill", department):
        raise PermissionDenied("payments.raise_bill")
    names = list(dict.fromkeys(stream.name for stream in chosen))
    names_sw = list(dict.fromkeys(stream.name_sw or stream.name for stream in chosen))
    return create_bill(
        payer=payer,
        lines=lines,
        department=department,
        due_on=timezone.localdate() + timedelta(days=DAYS_TO_PAY),
        description=", ".join(names)[:200],
        description_sw=", ".join(names_sw)[:200],
        actor=officer,
        ward=ward,
    )
