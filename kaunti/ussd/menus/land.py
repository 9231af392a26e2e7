"""Land rates: a parcel found by what the keypad can type, its balance, and paying it."""

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
from kaunti.ussd.menus.common import ListScreen, back_hint, screen_lines, start_payment


def short_parcel_number(number: str) -> str:
    """Without the county's part (every parcel here has the same): `OL KALOU TOWNSHIP/287`."""
    rest = number.partition("/")[2]
    return rest if rest and "/" in rest else number


def parcel_outcome(number: str) -> Outcome:
    """The balance screen of one parcel, or the end when it owes nothing."""
    facts = lookups.find_parcel(number=number)
    if facts is None:
        return End(_("No parcel has this number."))
    if facts.balance <= 0 or not facts.bill_number or facts.bill_balance <= 0:
        return End(
            _("Parcel %(parcel)s has no rates to pay.") % {"parcel": clip(facts.parcel_number, 40)}
        )
    return Goto(
        "parcel_confirm",
        {
            "parcel": facts.parcel_number,
            "balance": str(facts.balance),
            "bill": facts.bill_number,
            "pay": str(facts.bill_balance),
        },
    )


def typed_parcel_outcome(answer: str) -> Outcome | None:
    """What a parcel number typed on the keypad leads to: its balance, a choice between the
    parcels it may mean, or None when no parcel matches."""
    numbers = lookups.find_parcel_numbers(typed=answer)
    if not numbers:
        return None
    if len(numbers) == 1:
        return parcel_outcome(numbers[0])
    return Goto("parcel_pick", {"numbers": numbers})


class LandScreen(ListScreen):
    """The caller's own parcels to choose from, then "another parcel"; a parcel number may
    also be typed here straight away."""

    name = "land"

    def heading(self) -> str:
        return _("Choose a parcel or type its number")

    def items(self, hop: Hop, data: Data) -> list[tuple[str, str]]:
        own = [(number, short_parcel_number(number)) for number in data.get("own", [])]
        return [*own, ("", _("Another parcel"))]

    def chosen(self, hop: Hop, data: Data, key: str) -> Outcome:
        return parcel_outcome(key) if key else Goto("parcel_number")

    def handle(self, hop: Hop, data: Data, answer: str) -> Outcome:
        outcome = super().handle(hop, data, answer)
        if isinstance(outcome, Retry):
            return typed_parcel_outcome(answer) or Retry(_("No parcel has this number."))
        return outcome


class ParcelNumberScreen:
    def render(self, hop: Hop, data: Data) -> str:
        example = lookups.parcel_example()
        return screen_lines(
            _("Enter the parcel number, or just its last part: %(last)s for %(number)s")
            % {"last": example.rsplit("/", 1)[-1], "number": clip(example, 40)},
            _("Use * for /"),
            back_hint(),
        )

    def handle(self, hop: Hop, data: Data, answer: str) -> Outcome:
        return typed_parcel_outcome(answer) or Retry(_("No parcel has this number."))


class ParcelPickScreen(ListScreen):
    """Several parcels end with the digits typed: the caller picks theirs."""

    name = "parcel_pick"

    def heading(self) -> str:
        return _("Which parcel?")

    def items(self, hop: Hop, data: Data) -> list[tuple[str, str]]:
        return [(number, short_parcel_number(number)) for number in data["numbers"]]

    def chosen(self, hop: Hop, data: Data, key: str) -> Outcome:
        return parcel_outcome(key)


class ParcelConfirmScreen:
    def render(self, hop: Hop, data: Data) -> str:
        return screen_lines(
            _("Parcel %(parcel)s") % {"parcel": clip(data["parcel"], 40)},
            _("Rates due %(amount)s") % {"amount": format_kes(Decimal(data["balance"]))},
            _("1. Pay %(amount)s from %(phone)s")
            % {"amount": format_kes(Decimal(data["pay"])), "phone": mask_phone(hop.phone)},
            back_hint(),
        )

    def handle(self, hop: Hop, data: Data, answer: str) -> Outcome:
        if answer != "1":
            return Retry(_("Press 1 to pay or 0 to go back."))
        return start_payment(hop=hop, bill_number=data["bill"])
