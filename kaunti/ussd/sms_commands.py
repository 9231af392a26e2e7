"""Commands people text to the county's shortcode: `STATUS <reference>` and
`BAL <bill or parcel number>` (Kiswahili `HALI` and `SALIO` too). Each answer is one SMS.
"""

from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext as _

from kaunti.core.money import format_kes
from kaunti.ussd import lookups

COMMANDS = {"STATUS": "status", "HALI": "status", "BAL": "balance", "SALIO": "balance"}


@dataclass(frozen=True)
class Command:
    name: str  # status, balance, or "" when not understood
    argument: str


def parse(text: str) -> Command:
    words = (text or "").strip().split(None, 1)
    if not words:
        return Command("", "")
    name = COMMANDS.get(words[0].upper(), "")
    argument = words[1].strip() if len(words) > 1 else ""
    return Command(name, argument)


def _help() -> str:
    return _(
        "Send STATUS and a reference (STATUS APP-7KQ3MXA), or BAL and a bill or parcel number."
    )


def _status(phone: str, reference: str, language: str) -> str:
    facts = lookups.find_status(phone=phone, reference=reference, language=language)
    if facts is None:
        return _("We found nothing with reference %(reference)s made from this phone.") % {
            "reference": reference[:20]
        }
    return _("%(reference)s (%(title)s): %(status)s") % {
        "reference": facts.reference,
        "title": facts.title,
        "status": facts.status,
    }


def _balance(number: str) -> str:
    if lookups.looks_like_bill_number(number):
        bill = lookups.find_bill(number=number)
        if bill is not None:
            facts = lookups.bill_facts(bill)
            return _("Bill %(number)s (%(description)s): balance %(amount)s.") % {
                "number": facts.number,
                "description": facts.description[:60],
                "amount": format_kes(facts.balance),
            }
    numbers = lookups.find_parcel_numbers(typed=number, limit=4)
    if len(numbers) > 1:
        return _("Several parcels match %(typed)s: %(numbers)s. Send BAL and the full number.") % {
            "typed": number[:20],
            "numbers": ", ".join(numbers[:3]),
        }
    parcel = lookups.find_parcel(number=numbers[0]) if numbers else None
    if parcel is not None:
        return _("Parcel %(parcel)s: rates balance %(amount)s.") % {
            "parcel": parcel.parcel_number,
            "amount": format_kes(parcel.balance),
        }
    return _("We found no bill or parcel numbered %(number)s.") % {"number": number[:20]}


def reply_for(*, command: Command, phone: str, language: str) -> str:
    """The answer to one texted command, in `language`."""
    with translation.override(language):
        if command.name == "status" and command.argument:
            return _status(phone, command.argument, language)
        if command.name == "balance" and command.argument:
            return _balance(command.argument)
        return _help()
