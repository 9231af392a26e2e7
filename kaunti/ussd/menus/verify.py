"""Checking a permit's or receipt's code."""

from django.utils.translation import gettext as _

from kaunti.ussd import lookups
from kaunti.ussd.engine import (
    Data,
    End,
    Hop,
    Outcome,
    Retry,
    clip,
)
from kaunti.ussd.menus.common import back_hint, screen_lines


class VerifyCodeScreen:
    def render(self, hop: Hop, data: Data) -> str:
        return screen_lines(_("Enter the code on the permit or receipt"), back_hint())

    def handle(self, hop: Hop, data: Data, answer: str) -> Outcome:
        facts = lookups.verify_document(code=answer)
        if facts is None:
            return Retry(_("No document has this code."))
        states = {"valid": _("VALID"), "expired": _("EXPIRED"), "revoked": _("REVOKED")}
        return End(
            screen_lines(
                states.get(facts.state, facts.state),
                f"{clip(facts.kind, 20)} {clip(facts.number, 40)}",
                clip(facts.holder_name, 60),
                _("Valid until %(date)s") % {"date": facts.valid_until}
                if facts.valid_until
                else "",
            )
        )
