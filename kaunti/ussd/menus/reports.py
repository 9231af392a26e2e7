"""Reporting a problem: consent, name, category, where, and what happened."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kaunti.accounts.services import get_or_register_citizen_by_phone
from kaunti.core.selectors import list_wards
from kaunti.eservices.selectors.catalogue import list_complaint_categories
from kaunti.eservices.services.complaints.filing import file_complaint
from kaunti.ussd.engine import (
    Data,
    End,
    Goto,
    Hop,
    Outcome,
    Retry,
)
from kaunti.ussd.menus.common import (
    MAX_DESCRIPTION,
    ListScreen,
    back_hint,
    first_message,
    screen_lines,
)
from kaunti.ussd.selectors import get_citizen_by_phone


class ReportConsentScreen:
    def render(self, hop: Hop, data: Data) -> str:
        return screen_lines(
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
        return screen_lines(_("Enter your full name"), back_hint())

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
        return screen_lines(_("Describe the problem in a few words"), back_hint())

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
            return End(first_message(error))
        return End(
            _("Report received: %(reference)s. We have sent the reference by SMS.")
            % {"reference": complaint.reference}
        )
