"""Land rates and application status by keypad: a parcel number typed with digits, spaces
and `*` (no slashes, few letters), and the caller's own parcels and applications offered
as numbered choices."""

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from kaunti.accounts.models import User
from kaunti.conftest import read_sms
from kaunti.eservices.models import Application
from kaunti.eservices.services.applications.submission import submit_application
from kaunti.eservices.tests.conftest import draft_ubp  # noqa: F401  (fixture)
from kaunti.land.models import Parcel, RatingYear
from kaunti.land.services.billing import bill_rates
from kaunti.land.tests.conftest import (  # noqa: F401  (fixtures, used by name)
    FY,
    price_list,
    rating_year,
)
from kaunti.land.tests.factories import OwnerFactory, ParcelFactory, ValuationRollFactory
from kaunti.payments.models import StkRequest
from kaunti.simulators.africastalking import inbound_sms_form
from kaunti.ussd.models import PhoneLanguage
from kaunti.ussd.tests.conftest import MSISDN, Phone
from kaunti.ussd.tests.factories import PhoneLanguageFactory

pytestmark = pytest.mark.django_db

OWNER_PHONE, OWNER_MSISDN = "0722000555", "254722000555"

ASK_NUMBER = (
    "CON Enter the parcel number, or just its last part: 1234 for NYANDARUA/OL KALOU/1234\n"
    "Use * for /\n0. Back"
)


@pytest.fixture
def register(rating_year: RatingYear) -> dict[str, Parcel]:  # noqa: F811
    """Three parcels, two of them numbered 1234 in different sections, one in a block."""
    with_phone = OwnerFactory.create(
        name="Njeri Wairimu", national_id="30111222", phone=OWNER_PHONE
    )
    parcels = {
        "ol kalou": ParcelFactory.create(
            number="NYANDARUA/OL KALOU/1234", owners=[OwnerFactory.create()]
        ),
        "rurii": ParcelFactory.create(
            number="NYANDARUA/RURII/1234", owners=[OwnerFactory.create()]
        ),
        "block": ParcelFactory.create(
            number="NYANDARUA/KANJUIRI BLOCK 2/77", owners=[OwnerFactory.create()]
        ),
        "other block": ParcelFactory.create(
            number="NYANDARUA/KANJUIRI BLOCK 12/77", owners=[with_phone]
        ),
    }
    ValuationRollFactory.create(
        values={
            parcels["ol kalou"]: Decimal(1000000),
            parcels["rurii"]: Decimal(2000000),
            parcels["block"]: Decimal(3000000),
            parcels["other block"]: Decimal(4000000),
        }
    )
    bill_rates(financial_year=FY, actor=None)
    return parcels


def to_land_rates(phone: Phone) -> str:
    PhoneLanguage.objects.get_or_create(phone=MSISDN, defaults={"language": "en"})
    phone.dial()
    return phone.press("2")


def test_the_parcel_number_hint_shows_a_real_number_of_the_register(
    phone: Phone, register: dict[str, Parcel]
) -> None:
    assert to_land_rates(phone) == ASK_NUMBER


def test_a_parcel_found_by_its_last_digits_alone(phone: Phone, register: dict[str, Parcel]) -> None:
    to_land_rates(phone)
    assert phone.press("2 77") == (
        "CON Parcel NYANDARUA/KANJUIRI BLOCK 2/77\nRates due KES 3,000.00\n"
        "1. Pay KES 3,000.00 from 0712 *** 333\n0. Back"
    )


def test_a_section_typed_with_a_star_for_the_slash(
    phone: Phone, register: dict[str, Parcel]
) -> None:
    to_land_rates(phone)
    assert phone.press("rurii*1234").startswith("CON Parcel NYANDARUA/RURII/1234\n")


def test_a_section_typed_with_a_space_before_the_number(
    phone: Phone, register: dict[str, Parcel]
) -> None:
    to_land_rates(phone)
    assert phone.press("OL KALOU 1234").startswith("CON Parcel NYANDARUA/OL KALOU/1234\n")


def test_digits_several_parcels_end_with_are_offered_as_choices(
    phone: Phone, register: dict[str, Parcel]
) -> None:
    to_land_rates(phone)
    assert phone.press("1234") == "CON Which parcel?\n1. OL KALOU/1234\n2. RURII/1234\n0. Back"
    assert phone.press("2") == (
        "CON Parcel NYANDARUA/RURII/1234\nRates due KES 2,000.00\n"
        "1. Pay KES 2,000.00 from 0712 *** 333\n0. Back"
    )
    phone.press("1")
    stk = StkRequest.objects.get()
    assert (stk.amount, stk.phone) == (2000, MSISDN)


def test_digits_no_parcel_ends_with_are_asked_again(
    phone: Phone, register: dict[str, Parcel]
) -> None:
    to_land_rates(phone)
    assert phone.press("9 1234") == "CON No parcel has this number.\n" + ASK_NUMBER.removeprefix(
        "CON "
    )
    assert StkRequest.objects.count() == 0


def test_the_caller_s_own_parcels_are_offered_as_choices(
    client: Client, register: dict[str, Parcel]
) -> None:
    owner = Phone(client, number=OWNER_PHONE)
    PhoneLanguageFactory.create(phone=OWNER_MSISDN)
    owner.dial()
    assert owner.press("2") == (
        "CON Choose a parcel or type its number\n1. KANJUIRI BLOCK 12/77\n2. Another parcel\n"
        "0. Back"
    )
    assert owner.press("1") == (
        "CON Parcel NYANDARUA/KANJUIRI BLOCK 12/77\nRates due KES 4,000.00\n"
        "1. Pay KES 4,000.00 from 0722 *** 555\n0. Back"
    )
    owner.press("0")
    assert owner.press("2") == ASK_NUMBER


def test_a_parcel_number_may_be_typed_where_the_choices_are(
    client: Client, register: dict[str, Parcel]
) -> None:
    owner = Phone(client, number=OWNER_PHONE)
    PhoneLanguageFactory.create(phone=OWNER_MSISDN)
    owner.dial()
    owner.press("2")
    assert owner.press("rurii*1234").startswith("CON Parcel NYANDARUA/RURII/1234\n")


def test_a_caller_who_owns_no_parcel_is_offered_none(
    phone: Phone, register: dict[str, Parcel]
) -> None:
    assert to_land_rates(phone) == ASK_NUMBER  # not the owner's parcel of the same register


# --- Application status ----------------------------------------------------------------------


def test_the_caller_s_applications_are_offered_as_choices(
    client: Client,
    citizen: User,
    draft_ubp: Application,  # noqa: F811
) -> None:
    submitted = submit_application(application=draft_ubp, actor=citizen)
    PhoneLanguageFactory.create(phone=str(citizen.phone))
    applicant = Phone(client, number=str(citizen.phone))
    applicant.dial()
    assert applicant.press("4") == (
        f"CON Choose one, or type its reference\n1. {submitted.reference} Unified Busi..\n0. Back"
    )
    assert applicant.press("1") == (
        f"END {submitted.reference}\nUnified Business Permit\nStatus: Submitted, awaiting payment"
    )


def test_a_reference_may_still_be_typed_where_the_choices_are(
    client: Client,
    citizen: User,
    draft_ubp: Application,  # noqa: F811
) -> None:
    submitted = submit_application(application=draft_ubp, actor=citizen)
    PhoneLanguageFactory.create(phone=str(citizen.phone))
    applicant = Phone(client, number=str(citizen.phone))
    applicant.dial()
    applicant.press("4")
    assert applicant.press(submitted.reference.lower()).startswith(f"END {submitted.reference}\n")


# --- The same by SMS ---------------------------------------------------------------------------


def test_a_texted_balance_of_digits_several_parcels_end_with_lists_them(
    client: Client,
    register: dict[str, Parcel],
    sms_file: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/sms/africastalking/inbound/",
            inbound_sms_form(sender="0733000444", text="BAL 1234", message_id="ATXid_7"),
        )
    assert response.status_code == 200
    assert read_sms(sms_file)[-1]["message"] == (
        "Several parcels match 1234: NYANDARUA/OL KALOU/1234, NYANDARUA/RURII/1234. "
        "Send BAL and the full number."
    )


@pytest.mark.parametrize(
    ("typed", "screen_starts"),
    [
        *[(typed, "CON No parcel has this number.\n") for typed in ("*", "#", "/", "-", " * ")],
        ("\u0661\u0662\u0663\u0664", "CON No parcel has this number.\n"),  # ASCII digits only
        ("x" * 200, "CON No parcel has this number.\n"),
        ("1234*", "CON Which parcel?\n"),  # a stray * is a slash with nothing after it
        ("**1234", "CON Which parcel?\n"),
    ],
)
def test_keypad_input_that_is_no_parcel_number_is_asked_again(
    phone: Phone, register: dict[str, Parcel], typed: str, screen_starts: str
) -> None:
    to_land_rates(phone)
    assert phone.press(typed).startswith(screen_starts)
    assert StkRequest.objects.count() == 0
