"""The county's USSD menus: what each screen says and where each answer leads.

A channel, not a department: every screen reads through the owning app's selectors and
acts through its services (payments starts the M-Pesa prompt after commit, e-services
files the report and texts its reference). Values shown are clipped so that every screen,
with its hint and options, fits 182 characters in English and in Kiswahili.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kaunti.accounts.services import get_or_register_citizen_by_phone
from kaunti.core.identifiers import mask_phone
from kaunti.core.money import format_kes
from kaunti.core.selectors import get_deployment_county_name, list_wards
from kaunti.eservices.selectors.catalogue import list_complaint_categories
from kaunti.eservices.services.complaints.filing import file_complaint
from kaunti.payments.services.mpesa import IdempotencyConflict, request_stk_push
from kaunti.ussd import lookups
from kaunti.ussd.engine import (
    FIRST_LANGUAGE,
    MAIN,
    Data,
    End,
    Goto,
    Hop,
    Outcome,
    Retry,
    Screen,
    clip,
)
from kaunti.ussd.selectors import get_citizen_by_phone
from kaunti.ussd.services import set_phone_language

PAGE_SIZE = 4
MORE = "9"
NAME_WIDTH = 34  # a payer's or holder's name on a screen
ITEM_WIDTH = 25  # one option of a list
MAX_DESCRIPTION = 160


def _back() -> str:
    return _("0. Back")


def _lines(*lines: str) -> str:
    return "\n".join(line for line in lines if line)


def _first_message(error: ValidationError) -> str:
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
        return End(_first_message(error))
    except IdempotencyConflict:
        return End(_("This payment was already started. Check your phone."))
    return End(
        _(
            "You will get an M-Pesa prompt for %(amount)s on this phone. Enter your M-Pesa "
            "PIN to pay. Your receipt comes by SMS."
        )
        % {"amount": format_kes(Decimal(request.amount))}
    )


# --- Language ---------------------------------------------------------------------------


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
        return _lines(_("Choose language"), "1. English", "2. Kiswahili", _back())


# --- The main menu ---------------------------------------------------------------------


class MainScreen:
    def render(self, hop: Hop, data: Data) -> str:
        county = clip(get_deployment_county_name(), 30)
        return _lines(
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


# --- Lists ------------------------------------------------------------------------------


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
        lines.append(_back())
        return _lines(*lines)

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


# --- Pay a bill --------------------------------------------------------------------------


class BillNumberScreen:
    def render(self, hop: Hop, data: Data) -> str:
        return _lines(_("Enter the bill number"), _back())

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
        return _lines(
            _("Bill %(number)s") % {"number": data["number"]},
            clip(data["description"], NAME_WIDTH),
            _("Balance %(amount)s") % {"amount": format_kes(Decimal(data["balance"]))},
            _("1. Pay from %(phone)s") % {"phone": mask_phone(hop.phone)},
            _back(),
        )

    def handle(self, hop: Hop, data: Data, answer: str) -> Outcome:
        if answer != "1":
            return Retry(_("Press 1 to pay or 0 to go back."))
        return start_payment(hop=hop, bill_number=data["number"])


# --- Land rates --------------------------------------------------------------------------


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
        return _lines(
            _("Enter the parcel number, or just its last part: %(last)s for %(number)s")
            % {"last": example.rsplit("/", 1)[-1], "number": clip(example, 40)},
            _("Use * for /"),
            _back(),
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
        return _lines(
            _("Parcel %(parcel)s") % {"parcel": clip(data["parcel"], 40)},
            _("Rates due %(amount)s") % {"amount": format_kes(Decimal(data["balance"]))},
            _("1. Pay %(amount)s from %(phone)s")
            % {"amount": format_kes(Decimal(data["pay"])), "phone": mask_phone(hop.phone)},
            _back(),
        )

    def handle(self, hop: Hop, data: Data, answer: str) -> Outcome:
        if answer != "1":
            return Retry(_("Press 1 to pay or 0 to go back."))
        return start_payment(hop=hop, bill_number=data["bill"])


# --- Business permit renewal ----------------------------------------------------------------


class PermitNumberScreen:
    def render(self, hop: Hop, data: Data) -> str:
        return _lines(_("Enter your permit number"), _back())

    def handle(self, hop: Hop, data: Data, answer: str) -> Outcome:
        citizen = get_citizen_by_phone(phone=hop.phone)
        if citizen is None:
            return End(
                _("No permit is registered to this phone. Renew online or at a county office.")
            )
        try:
            renewal = lookups.renew_permit(document_number=answer, applicant=citizen)
        except ValidationError as error:
            return End(_first_message(error))  # e.g. not their permit: a hint is too short
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
        return _lines(
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


# --- Application status --------------------------------------------------------------------


def status_outcome(hop: Hop, reference: str) -> Outcome:
    facts = lookups.find_status(phone=hop.phone, reference=reference, language=hop.language)
    if facts is None:
        return Retry(_("Not found for this phone."))
    return End(
        _lines(
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
            return _lines(_("Enter the reference, like APP-7KQ3MXA"), _back())
        start = int(data.get("page", 0)) * PAGE_SIZE
        page = choices[start : start + PAGE_SIZE]
        lines = [_("Choose one, or type its reference")]
        lines += [
            f"{number}. {reference} {clip(title, ITEM_WIDTH - len(reference))}"
            for number, (reference, title) in enumerate(page, 1)
        ]
        if start + PAGE_SIZE < len(choices):
            lines.append(_("9. More"))
        lines.append(_back())
        return _lines(*lines)

    def handle(self, hop: Hop, data: Data, answer: str) -> Outcome:
        choices = data.get("choices") or []
        start = int(data.get("page", 0)) * PAGE_SIZE
        page = choices[start : start + PAGE_SIZE]
        if answer == MORE and start + PAGE_SIZE < len(choices):
            return Goto("status_reference", {**data, "page": int(data.get("page", 0)) + 1})
        if answer.isdigit() and 1 <= int(answer) <= len(page):
            return status_outcome(hop, page[int(answer) - 1][0])
        return status_outcome(hop, answer)


# --- Report a problem ----------------------------------------------------------------------


class ReportConsentScreen:
    def render(self, hop: Hop, data: Data) -> str:
        return _lines(
            _(
                "To deal with your report the county keeps your phone number, name and "
                "report (Data Protection Act 2019)."
            ),
            _("1. I agree"),
            _("2. No, thanks"),
        )

    def handle(self, hop: Hop, data: Data, answer: str) -> Outcome:
        if answer == "1":
            return Goto("report_name", {"consented": "1"})
        if answer == "2":
            return End(_("Nothing was kept. Goodbye."))
        return Retry(_("Choose 1 or 2."))


class ReportNameScreen:
    def render(self, hop: Hop, data: Data) -> str:
        return _lines(_("Enter your full name"), _back())

    def handle(self, hop: Hop, data: Data, answer: str) -> Outcome:
        name = " ".join(answer.split())
        if len(name) < 3 or name.isdigit():
            return Retry(_("Enter your name in letters."))
        return Goto("report_category", {**data, "name": name[:100]})


class ReportCategoryScreen(ListScreen):
    name = "report_category"

    def heading(self) -> str:
        return _("What is the problem about?")

    def items(self, hop: Hop, data: Data) -> list[tuple[str, str]]:
        return [
            (category.code, category.name(hop.language)) for category in list_complaint_categories()
        ]

    def chosen(self, hop: Hop, data: Data, key: str) -> Outcome:
        return Goto("report_sub_county", {**data, "category": key})


class ReportSubCountyScreen(ListScreen):
    name = "report_sub_county"

    def heading(self) -> str:
        return _("Which sub-county?")

    def items(self, hop: Hop, data: Data) -> list[tuple[str, str]]:
        seen: dict[str, str] = {}
        for ward in list_wards():
            seen.setdefault(ward.sub_county.code, ward.sub_county.name)
        return list(seen.items())

    def chosen(self, hop: Hop, data: Data, key: str) -> Outcome:
        return Goto("report_ward", {**data, "sub_county": key})


class ReportWardScreen(ListScreen):
    name = "report_ward"

    def heading(self) -> str:
        return _("Which ward?")

    def items(self, hop: Hop, data: Data) -> list[tuple[str, str]]:
        return [
            (ward.code, ward.name)
            for ward in list_wards().filter(sub_county__code=data["sub_county"])
        ]

    def chosen(self, hop: Hop, data: Data, key: str) -> Outcome:
        return Goto("report_description", {**data, "ward": key})


class ReportDescriptionScreen:
    def render(self, hop: Hop, data: Data) -> str:
        return _lines(_("Describe the problem in a few words"), _back())

    def handle(self, hop: Hop, data: Data, answer: str) -> Outcome:
        text = " ".join(answer.split())
        if len(text) < 5:
            return Retry(_("Say a little more, please."))
        category = next(
            (c for c in list_complaint_categories() if c.code == data["category"]), None
        )
        ward = list_wards().filter(code=data["ward"]).first()
        if category is None or ward is None:
            return End(_("That did not work. Try again later."))
        try:
            citizen = (
                get_or_register_citizen_by_phone(
                    phone=hop.phone,
                    full_name=data.get("name", ""),
                    language=hop.language,
                    notice_version=settings.PRIVACY_NOTICE_VERSION,
                    channel="ussd",
                )
                if data.get("consented")
                else get_citizen_by_phone(phone=hop.phone)
            )
            if citizen is None:
                return End(_("That did not work. Try again later."))
            complaint = file_complaint(
                complainant=citizen,
                category=category,
                ward=ward,
                description=text[:MAX_DESCRIPTION],
            )
        except ValidationError as error:
            return End(_first_message(error))
        return End(
            _("Report received: %(reference)s. We have sent the reference by SMS.")
            % {"reference": complaint.reference}
        )


# --- Verify a document ---------------------------------------------------------------------


class VerifyCodeScreen:
    def render(self, hop: Hop, data: Data) -> str:
        return _lines(_("Enter the code on the permit or receipt"), _back())

    def handle(self, hop: Hop, data: Data, answer: str) -> Outcome:
        facts = lookups.verify_document(code=answer)
        if facts is None:
            return Retry(_("No document has this code."))
        states = {"valid": _("VALID"), "expired": _("EXPIRED"), "revoked": _("REVOKED")}
        return End(
            _lines(
                states.get(facts.state, facts.state),
                f"{clip(facts.kind, 20)} {clip(facts.number, 40)}",
                clip(facts.holder_name, 60),
                _("Valid until %(date)s") % {"date": facts.valid_until}
                if facts.valid_until
                else "",
            )
        )


SCREENS: dict[str, Screen] = {
    FIRST_LANGUAGE: FirstLanguageScreen(),
    "language": LanguageScreen(),
    MAIN: MainScreen(),
    "bill_number": BillNumberScreen(),
    "bill_confirm": BillConfirmScreen(),
    "land": LandScreen(),
    "parcel_number": ParcelNumberScreen(),
    "parcel_pick": ParcelPickScreen(),
    "parcel_confirm": ParcelConfirmScreen(),
    "permit_number": PermitNumberScreen(),
    "renewal_pay": RenewalPayScreen(),
    "status_reference": StatusReferenceScreen(),
    "report_consent": ReportConsentScreen(),
    "report_name": ReportNameScreen(),
    "report_category": ReportCategoryScreen(),
    "report_sub_county": ReportSubCountyScreen(),
    "report_ward": ReportWardScreen(),
    "report_description": ReportDescriptionScreen(),
    "verify_code": VerifyCodeScreen(),
}
