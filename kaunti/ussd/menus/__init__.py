"""The county's USSD menus: what each screen says and where each answer leads.

A channel, not a department: every screen reads through the owning app's selectors and
acts through its services (payments starts the M-Pesa prompt after commit, e-services
files the report and texts its reference). Values shown are clipped so that every screen,
with its hint and options, fits 182 characters in English and in Kiswahili. One module per
journey (`bills`, `land`, `permits`, `reports`, `verify`), `main` for the first screens,
`common` for what they share; `SCREENS` below names every screen the engine can show.
"""

from kaunti.ussd.engine import (
    FIRST_LANGUAGE,
    MAIN,
    Screen,
)
from kaunti.ussd.menus.bills import BillConfirmScreen, BillNumberScreen
from kaunti.ussd.menus.land import (
    LandScreen,
    ParcelConfirmScreen,
    ParcelNumberScreen,
    ParcelPickScreen,
)
from kaunti.ussd.menus.main import FirstLanguageScreen, LanguageScreen, MainScreen
from kaunti.ussd.menus.permits import PermitNumberScreen, RenewalPayScreen, StatusReferenceScreen
from kaunti.ussd.menus.reports import (
    ReportCategoryScreen,
    ReportConsentScreen,
    ReportDescriptionScreen,
    ReportNameScreen,
    ReportSubCountyScreen,
    ReportWardScreen,
)
from kaunti.ussd.menus.verify import VerifyCodeScreen

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
