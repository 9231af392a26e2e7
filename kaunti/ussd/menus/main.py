"""The first screens: the language a phone is answered in, and the main menu."""

from django.utils.translation import gettext as _

from kaunti.core.selectors import get_deployment_county_name
from kaunti.ussd import lookups
from kaunti.ussd.engine import (
    MAIN,
    Data,
    Goto,
    Hop,
    Outcome,
    Retry,
    clip,
)
from kaunti.ussd.menus.common import back_hint, screen_lines
from kaunti.ussd.selectors import get_citizen_by_phone
from kaunti.ussd.services import set_phone_language


class FirstLanguageScreen:
    """Asked once per phone; both languages at once, since we do not know which yet."""

    def render(self, hop: Hop, data: Data) -> str:
        county = clip(get_deployment_county_name(), 30)
        return f"Karibu {county}\nChoose language / Chagua lugha\n1. English\n2. Kiswahili"

    def handle(self, hop: Hop, data: Data, answer: str) -> Outcome:
        languages = {"1": "en", "2": "sw"}
        if answer not in languages:
            return Retry("Choose 1 or 2 / Chagua 1 au 2")
        set_phone_language(phone=hop.phone, language=languages[answer])
        return Goto(MAIN, {"_language": languages[answer]}, root=True)


class LanguageScreen(FirstLanguageScreen):
    def render(self, hop: Hop, data: Data) -> str:
        return screen_lines(_("Choose language"), "1. English", "2. Kiswahili", back_hint())


class MainScreen:
    def render(self, hop: Hop, data: Data) -> str:
        county = clip(get_deployment_county_name(), 30)
        return screen_lines(
            _("%(county)s County") % {"county": county},
            _("1. Pay a bill"),
            _("2. Land rates"),
            _("3. Renew business permit"),
            _("4. Application status"),
            _("5. Report a problem"),
            _("6. Verify permit/receipt"),
            _("7. Language"),
        )

    def handle(self, hop: Hop, data: Data, answer: str) -> Outcome:
        if answer == "5":
            if get_citizen_by_phone(phone=hop.phone) is None:
                return Goto("report_consent")
            return Goto("report_category")
        if answer == "2":
            own = lookups.parcels_of_caller(phone=hop.phone)
            return Goto("land", {"own": own}) if own else Goto("parcel_number")
        if answer == "4":
            choices = lookups.references_of_caller(phone=hop.phone, language=hop.language)
            return Goto(
                "status_reference",
                {"choices": [[choice.reference, choice.title] for choice in choices]},
            )
        targets = {
            "1": "bill_number",
            "3": "permit_number",
            "6": "verify_code",
            "7": "language",
        }
        if answer not in targets:
            return Retry(_("Choose a number from the menu."))
        return Goto(targets[answer])
