"""The land rates and permit renewal menus, over the Africa's Talking endpoint."""

import pytest
from django.test import Client

from kaunti.accounts.models import User
from kaunti.accounts.tests.factories import CitizenFactory
from kaunti.eservices.models import Application, ApplicationStatus
from kaunti.eservices.tests.conftest import in_review_ubp, people  # noqa: F401  (fixtures)
from kaunti.eservices.tests.test_renewals import last_years_permit, number_of  # noqa: F401
from kaunti.land.models import ChargeKind, Parcel, ParcelCharge
from kaunti.land.tests.conftest import (  # noqa: F401  (fixtures, used by name)
    parcel,
    price_list,
    rating_year,
)
from kaunti.payments.models import StkRequest
from kaunti.ussd.tests.conftest import MSISDN, Phone
from kaunti.ussd.tests.factories import PhoneLanguageFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "confirm", "ended"),
    [
        (
            "en",
            "CON Parcel NYANDARUA/OL KALOU/1234\n"
            "Rates due KES 1,000.00\n1. Pay KES 1,000.00 from 0712 *** 333\n0. Back",
            "END You will get an M-Pesa prompt for KES 1,000.00 on this phone. Enter your "
            "M-Pesa PIN to pay. Your receipt comes by SMS.",
        ),
        (
            "sw",
            "CON Kipande NYANDARUA/OL KALOU/1234\n"
            "Kodi inayodaiwa KES 1,000.00\n1. Lipa KES 1,000.00 kutoka 0712 *** 333\n0. Rudi",
            "END Utapokea ombi la M-Pesa la KES 1,000.00 kwenye simu hii. Weka PIN yako ya "
            "M-Pesa kulipa. Risiti itakuja kwa SMS.",
        ),
    ],
)
def test_land_rates_balance_and_payment_by_parcel_number(
    phone: Phone,
    parcel: Parcel,  # noqa: F811
    language: str,
    confirm: str,
    ended: str,
) -> None:
    PhoneLanguageFactory.create(language=language)
    phone.dial()
    phone.press("2")
    assert phone.press("nyandarua/ol kalou/1234") == confirm
    assert phone.press("1") == ended

    rates_bill = ParcelCharge.objects.get(parcel=parcel, kind=ChargeKind.RATES).bill
    stk = StkRequest.objects.get()
    assert (stk.bill_id, stk.amount, stk.phone, stk.channel) == (
        rates_bill.pk,
        1000,
        MSISDN,
        "ussd",
    )


@pytest.mark.parametrize(
    ("language", "hint"),
    [("en", "No parcel has this number."), ("sw", "Hakuna kipande chenye nambari hii.")],
)
def test_an_unknown_parcel_is_asked_again(
    phone: Phone,
    parcel: Parcel,  # noqa: F811
    language: str,
    hint: str,
) -> None:
    PhoneLanguageFactory.create(language=language)
    phone.dial()
    prompt = phone.press("2")
    assert phone.press("NYANDARUA/OL KALOU/9999") == f"CON {hint}\n" + prompt.removeprefix("CON ")
    assert StkRequest.objects.count() == 0


def test_a_parcel_with_nothing_owed_ends_the_session(
    phone: Phone,
    parcel: Parcel,  # noqa: F811
) -> None:
    bill = ParcelCharge.objects.get(parcel=parcel, kind=ChargeKind.RATES).bill
    type(bill).objects.filter(pk=bill.pk).update(status="paid", paid=bill.total)
    PhoneLanguageFactory.create()
    phone.dial()
    phone.press("2")
    assert phone.press("NYANDARUA/OL KALOU/1234") == (
        "END Parcel NYANDARUA/OL KALOU/1234 has no rates to pay."
    )


@pytest.mark.parametrize(
    ("language", "paying"),
    [
        (
            "en",
            "CON Renewal {reference} sent.\nBill {bill}: {amount}\n1. Pay from 0712 *** 111\n"
            "0. Main menu",
        ),
        (
            "sw",
            "CON Ombi la kurejesha {reference} limetumwa.\nBili {bill}: {amount}\n"
            "1. Lipa kutoka 0712 *** 111\n0. Menyu kuu",
        ),
    ],
)
def test_renewing_a_permit_raises_the_bill_then_pays_it(
    client: Client,
    citizen: User,
    last_years_permit: Application,  # noqa: F811
    language: str,
    paying: str,
) -> None:
    PhoneLanguageFactory.create(phone=str(citizen.phone), language=language)
    phone = Phone(client, number=str(citizen.phone))
    phone.dial()
    phone.press("3")
    screen = phone.press(number_of(last_years_permit).lower())

    renewal = Application.objects.get(renewal_of=last_years_permit)
    assert renewal.status == ApplicationStatus.SUBMITTED
    assert renewal.bill is not None
    assert screen == paying.format(
        reference=renewal.reference,
        bill=renewal.bill.number,
        amount=f"KES {renewal.bill.total:,.2f}",
    )
    assert phone.press("0").startswith("CON ")  # back goes home, not into renewing again
    assert Application.objects.filter(renewal_of=last_years_permit).count() == 1
    phone.press("00")

    phone.dial()
    phone.press("3")
    again = phone.press(number_of(last_years_permit))
    assert again.startswith("END ")
    assert Application.objects.filter(renewal_of=last_years_permit).count() == 1


def test_renewing_pays_by_mpesa(
    client: Client,
    citizen: User,
    last_years_permit: Application,  # noqa: F811
) -> None:
    PhoneLanguageFactory.create(phone=str(citizen.phone))
    phone = Phone(client, number=str(citizen.phone))
    phone.dial()
    phone.press("3")
    phone.press(number_of(last_years_permit))
    renewal = Application.objects.get(renewal_of=last_years_permit)
    assert renewal.bill is not None

    assert phone.press("1").startswith("END You will get an M-Pesa prompt")
    stk = StkRequest.objects.get()
    assert (stk.bill_id, stk.phone, stk.channel) == (renewal.bill.pk, citizen.phone, "ussd")


def test_a_permit_that_is_not_the_callers_is_refused(
    phone: Phone,
    citizen: User,
    last_years_permit: Application,  # noqa: F811
) -> None:
    CitizenFactory.create(phone=MSISDN, full_name="Someone Else")
    PhoneLanguageFactory.create()
    phone.dial()
    phone.press("3")
    ended = phone.press(number_of(last_years_permit))

    assert ended == (
        f"END We found no permit or licence of yours numbered {number_of(last_years_permit)}."
    )
    assert Application.objects.filter(renewal_of=last_years_permit).count() == 0


def test_a_phone_without_an_account_is_sent_to_the_web_or_an_office(
    phone: Phone, county: None
) -> None:
    PhoneLanguageFactory.create()
    phone.dial()
    assert phone.press("3") == "CON Enter your permit number\n0. Back"
    assert phone.press("UBP/2026/ACDEFGH") == (
        "END No permit is registered to this phone. Renew online or at a county office."
    )
