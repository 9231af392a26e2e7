"""Paying a bill by its number."""

from decimal import Decimal

from django.utils.translation import gettext as _

from kaunti.core.identifiers import mask_phone
from kaunti.core.money import format_kes
from kaunti.ussd import lookups
from kaunti.ussd.engine import (
    Data,
    End,
    Goto,
    Hop,
    Outcome,
    Retry,
    clip,
)
from kaunti.ussd.menus.common import NAME_WIDTH, back_hint, screen_lines, start_payment


class BillNumberScreen:
    def render(self, hop: Hop, data: Data) -> str:
        return screen_lines(_("Enter the bill number"), back_hint())

    def handle(self, hop: Hop, data: Data, answer: str) -> Outcome:
        if not lookups.looks_like_bill_number(answer):
            return Retry(_("That is not a bill number. Check it."))
        bill = lookups.find_bill(number=answer)
        if bill is None:
            return Retry(_("No bill has this number."))
        facts = lookups.bill_facts(bill)
        if facts.is_paid:
            return End(_("Bill %(number)s is fully paid. Thank you.") % {"number": facts.number})
        return Goto(
            "bill_confirm",
            {
                "number": facts.number,
                "description": facts.description,
                "balance": str(facts.balance),
            },
        )


class BillConfirmScreen:
    def render(self, hop: Hop, data: Data) -> str:
        return screen_lines(
            _("Bill %(number)s") % {"number": data["number"]},
            clip(data["description"], NAME_WIDTH),
            _("Balance %(amount)s") % {"amount": format_kes(Decimal(data["balance"]))},
            _("1. Pay from %(phone)s") % {"phone": mask_phone(hop.phone)},
            back_hint(),
        )

    def handle(self, hop: Hop, data: Data, answer: str) -> Outcome:
        if answer != "1":
            return Retry(_("Press 1 to pay or 0 to go back."))
        return start_payment(hop=hop, bill_number=data["number"])
