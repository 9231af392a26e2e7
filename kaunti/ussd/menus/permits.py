"""A business permit's renewal, and an application's status by its reference."""

from decimal import Decimal

from django.core.exceptions import ValidationError
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
from kaunti.ussd.menus.common import (
    ITEM_WIDTH,
    MORE,
    PAGE_SIZE,
    back_hint,
    first_message,
    screen_lines,
    start_payment,
)
from kaunti.ussd.selectors import get_citizen_by_phone


class PermitNumberScreen:
    def render(self, hop: Hop, data: Data) -> str:
        return screen_lines(_("Enter your permit number"), back_hint())

    def handle(self, hop: Hop, data: Data, answer: str) -> Outcome:
        citizen = get_citizen_by_phone(phone=hop.phone)
        if citizen is None:
            return End(
                _("No permit is registered to this phone. Renew online or at a county office.")
            )
        try:
            renewal = lookups.renew_permit(document_number=answer, applicant=citizen)
        except ValidationError as error:
            return End(first_message(error))  # e.g. not their permit: a hint is too short
        if not renewal.bill_number or renewal.amount <= 0:
            return End(
                _("Renewal %(reference)s sent. Nothing to pay.") % {"reference": renewal.reference}
            )
        return Goto(
            "renewal_pay",
            {
                "reference": renewal.reference,
                "bill": renewal.bill_number,
                "amount": str(renewal.amount),
            },
            home=True,
        )


class RenewalPayScreen:
    def render(self, hop: Hop, data: Data) -> str:
        return screen_lines(
            _("Renewal %(reference)s sent.") % {"reference": data["reference"]},
            _("Bill %(number)s: %(amount)s")
            % {"number": data["bill"], "amount": format_kes(Decimal(data["amount"]))},
            _("1. Pay from %(phone)s") % {"phone": mask_phone(hop.phone)},
            _("0. Main menu"),
        )

    def handle(self, hop: Hop, data: Data, answer: str) -> Outcome:
        if answer != "1":
            return Retry(_("Press 1 to pay or 0 for the menu."))
        return start_payment(hop=hop, bill_number=data["bill"])


def status_outcome(hop: Hop, reference: str) -> Outcome:
    facts = lookups.find_status(phone=hop.phone, reference=reference, language=hop.language)
    if facts is None:
        return Retry(_("Not found for this phone."))
    return End(
        screen_lines(
            facts.reference,
            clip(facts.title, 60),
            _("Status: %(status)s") % {"status": clip(facts.status, 60)},
        )
    )


class StatusReferenceScreen:
    """The caller's own applications and reports to choose from (newest first); a
    reference may still be typed, like one sent by SMS."""

    def render(self, hop: Hop, data: Data) -> str:
        choices = data.get("choices")
        if not choices:
            return screen_lines(_("Enter the reference, like APP-7KQ3MXA"), back_hint())
        start = int(data.get("page", 0)) * PAGE_SIZE
        page = choices[start : start + PAGE_SIZE]
        lines = [_("Choose one, or type its reference")]
        lines += [
            f"{number}. {reference} {clip(title, ITEM_WIDTH - len(reference))}"
            for number, (reference, title) in enumerate(page, 1)
        ]
        if start + PAGE_SIZE < len(choices):
            lines.append(_("9. More"))
        lines.append(back_hint())
        return screen_lines(*lines)

    def handle(self, hop: Hop, data: Data, answer: str) -> Outcome:
        choices = data.get("choices") or []
        start = int(data.get("page", 0)) * PAGE_SIZE
        page = choices[start : start + PAGE_SIZE]
        if answer == MORE and start + PAGE_SIZE < len(choices):
            return Goto("status_reference", {**data, "page": int(data.get("page", 0)) + 1})
        if answer.isdigit() and 1 <= int(answer) <= len(page):
            return status_outcome(hop, page[int(answer) - 1][0])
        return status_outcome(hop, answer)
