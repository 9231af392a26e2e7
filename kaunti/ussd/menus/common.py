"""What every screen shares: the paging, the back hint, the way lines are joined, and
starting an M-Pesa prompt for a bill."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kaunti.core.money import format_kes
from kaunti.payments.mpesa.stk import IdempotencyConflict, request_stk_push
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

PAGE_SIZE = 4


MORE = "9"


NAME_WIDTH = 34  # a payer's or holder's name on a screen


ITEM_WIDTH = 25  # one option of a list


MAX_DESCRIPTION = 160


def back_hint() -> str:
    return _("0. Back")


def screen_lines(*lines: str) -> str:
    return "\n".join(line for line in lines if line)


def first_message(error: ValidationError) -> str:
    return error.messages[0] if error.messages else _("That did not work. Try again later.")


def start_payment(*, hop: Hop, bill_number: str) -> Outcome:
    """Ask payments to prompt this phone on M-Pesa for the bill, and end the session.

    The prompt leaves after commit, from a task: nothing in this step waits on Safaricom.
    One prompt per session and bill, however often the step is repeated.
    """
    bill = lookups.find_bill(number=bill_number)
    if bill is None:
        return End(_("No bill has this number."))
    try:
        request = request_stk_push(
            bill=bill,
            phone=hop.phone,
            actor=None,
            channel="ussd",
            idempotency_key=f"ussd:{hop.session_key[-40:]}:{bill.number}",
        )
    except ValidationError as error:
        return End(first_message(error))
    except IdempotencyConflict:
        return End(_("This payment was already started. Check your phone."))
    return End(
        _(
            "You will get an M-Pesa prompt for %(amount)s on this phone. Enter your M-Pesa "
            "PIN to pay. Your receipt comes by SMS."
        )
        % {"amount": format_kes(Decimal(request.amount))}
    )


class ListScreen:
    """Choose one of a list, `PAGE_SIZE` at a time; "9" shows the next page."""

    title = ""

    def items(self, hop: Hop, data: Data) -> list[tuple[str, str]]:
        raise NotImplementedError

    def chosen(self, hop: Hop, data: Data, key: str) -> Outcome:
        raise NotImplementedError

    def heading(self) -> str:
        raise NotImplementedError

    def _page(self, hop: Hop, data: Data) -> tuple[list[tuple[str, str]], bool]:
        items = self.items(hop, data)
        start = int(data.get("page", 0)) * PAGE_SIZE
        return items[start : start + PAGE_SIZE], start + PAGE_SIZE < len(items)

    def render(self, hop: Hop, data: Data) -> str:
        page, has_more = self._page(hop, data)
        lines = [self.heading()]
        lines += [
            f"{number}. {clip(label, ITEM_WIDTH)}" for number, (_key, label) in enumerate(page, 1)
        ]
        if has_more:
            lines.append(_("9. More"))
        lines.append(back_hint())
        return screen_lines(*lines)

    def handle(self, hop: Hop, data: Data, answer: str) -> Outcome:
        page, has_more = self._page(hop, data)
        if answer == MORE and has_more:
            return Goto(self.name, {**data, "page": int(data.get("page", 0)) + 1})
        if answer.isdigit() and 1 <= int(answer) <= len(page):
            return self.chosen(
                hop, {k: v for k, v in data.items() if k != "page"}, page[int(answer) - 1][0]
            )
        return Retry(_("Choose a number from the list."))

    name = ""
