"""No anonymous channel tells a stranger who someone is: every public web page and API
endpoint, and every USSD and SMS lookup, answered to another phone, with a person whose
name, national ID, KRA PIN and phone are distinctive enough to find in any answer.

The verification page of an issued document names its holder: its code is a 60-bit secret
printed on the paper (core/documents.py), and the name is what a reader compares with the
paper. It shows no ID number or phone, which is checked here with everything else."""

import re
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from kaunti.accounts.models import User
from kaunti.conftest import read_sms
from kaunti.core.models import IssuedDocument
from kaunti.eservices.models import Application
from kaunti.eservices.services.applications import submit_application
from kaunti.eservices.tests.conftest import draft_ubp  # noqa: F401  (fixture)
from kaunti.land.models import RatingYear
from kaunti.land.services.billing import bill_rates
from kaunti.land.tests.conftest import (  # noqa: F401  (fixtures, used by name)
    FY,
    price_list,
    rating_year,
)
from kaunti.land.tests.factories import OwnerFactory, ParcelFactory, ValuationRollFactory
from kaunti.payments.models import Bill, Receipt
from kaunti.payments.tests.factories import PaymentFactory
from kaunti.simulators.africastalking import inbound_sms_form
from kaunti.ussd.tests.conftest import Phone
from kaunti.ussd.tests.factories import PhoneLanguageFactory

pytestmark = pytest.mark.django_db

NAME = "Zebedayo Kiprotich"
NATIONAL_ID = "29876543"
KRA_PIN = "A012345678Z"
PHONE = "254712000111"  # the `citizen` fixture's phone, the person's own
STRANGER = "0733000444"
STRANGER_MSISDN = "254733000444"
PARCEL = "NYANDARUA/OL KALOU/4321"


def personal_fields_in(text: str, *, with_name: bool = True) -> list[str]:
    """The person's fields that `text` shows, in any of the forms pages write them."""
    flat = re.sub(r"[\s-]", "", text).lower()
    found = []
    if with_name and ("zebedayo" in text.lower() or "kiprotich" in text.lower()):
        found.append("name")
    if NATIONAL_ID in flat:
        found.append("national ID")
    if KRA_PIN.lower() in flat:
        found.append("KRA PIN")
    if PHONE[3:] in flat:  # 712000111, in 0712..., +254712..., 0712 000 111
        found.append("phone")
    return found


@pytest.fixture
def person(
    citizen: User,
    draft_ubp: Application,  # noqa: F811
    rating_year: RatingYear,  # noqa: F811
    make_bill: Callable[..., Bill],
) -> dict[str, str]:
    """The person: an account, an application, a parcel billed for rates, a bill of their
    own and a receipt; returns the public references a stranger might type."""
    User.objects.filter(pk=citizen.pk).update(full_name=NAME, national_id=NATIONAL_ID)
    citizen.refresh_from_db()
    owner = OwnerFactory.create(name=NAME, national_id=NATIONAL_ID, kra_pin=KRA_PIN, phone=PHONE)
    parcel = ParcelFactory.create(number=PARCEL, owners=[owner])
    ValuationRollFactory.create(values={parcel: Decimal(1000000)})
    bill_rates(financial_year=FY, actor=None)
    rates_bill = Bill.objects.get(land_charge__parcel=parcel)
    assert (rates_bill.payer_name, rates_bill.payer_phone) == (NAME, PHONE)
    own_bill = make_bill(Decimal("1500.00"), payer_name=NAME, payer_phone=PHONE)
    Bill.objects.filter(pk=own_bill.pk).update(payer_id_number=NATIONAL_ID, payer_kra_pin=KRA_PIN)
    application = submit_application(application=draft_ubp, actor=citizen)
    PaymentFactory.create(bill=own_bill, external_ref="SKJ7H2K9QX")
    receipt = Receipt.objects.get(payment__allocations__bill=own_bill)
    document = IssuedDocument.objects.get(number=receipt.number)
    return {
        "parcel": PARCEL,
        "rates_bill": rates_bill.number,
        "bill": own_bill.number,
        "receipt": receipt.number,
        "reference": application.reference,
        "code": document.verification_code,
    }


# --- Web pages and the API, as anyone ------------------------------------------------------


def _routes(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def _paths(route: str, person: dict[str, str]) -> list[str]:
    """Every way to fill the route's parameters with the person's public references."""
    values = {
        "number": [person[key] for key in ("parcel", "rates_bill", "bill", "receipt")],
        "reference": [person["reference"]],
        "code": [person["code"], "unified-business-permit"],
        "public_id": [str(uuid.uuid4())],
        "financial_year": [str(FY)],
    }
    paths = [route]
    for name, options in values.items():
        for placeholder in re.findall(rf"<(?:\w+:)?{name}>", route):
            paths = [path.replace(placeholder, option) for path in paths for option in options]
    return [path for path in paths if "<" not in path]


def test_no_public_page_or_api_endpoint_shows_the_person(
    client: Client, person: dict[str, str]
) -> None:
    checked = 0
    for route, _pattern in _routes(get_resolver()):
        if route.startswith("admin/") or "(?P" in route:
            continue
        for path in _paths(route, person):
            response = client.get("/" + path, HTTP_ACCEPT="text/html,application/json")
            if response.status_code == 405 or response.streaming:
                continue
            shown = personal_fields_in(
                response.content.decode(errors="replace"), with_name=not path.startswith("verify/")
            )
            assert shown == [], (path, response.status_code, shown)
            checked += 1
    assert checked > 60


def test_the_public_rates_balance_check_shows_no_owner(
    client: Client, person: dict[str, str]
) -> None:
    response = client.post("/land/rates-balance/", {"number": PARCEL.lower()})
    assert response.status_code == 200
    page = response.content.decode()
    assert person["rates_bill"] in page  # what it is for: the bill number to pay with
    assert personal_fields_in(page) == []


# --- USSD and SMS, from a stranger's phone ----------------------------------------------------


@pytest.fixture
def stranger(client: Client) -> Phone:
    PhoneLanguageFactory.create(phone=STRANGER_MSISDN)
    return Phone(client, number=STRANGER)


@pytest.mark.parametrize(
    ("menu", "typed", "shows"),
    [
        ("1", "bill", "Balance KES 1,500.00"),  # the bill is paid: the session ends
        ("1", "rates_bill", "Balance KES 1,000.00"),
        ("2", "parcel", "Rates due KES 1,000.00"),
        ("2", "4321", "Rates due KES 1,000.00"),
        ("4", "reference", "Not found for this phone."),
        ("6", "code", "VALID"),
    ],
)
def test_no_ussd_lookup_shows_the_person_to_another_phone(
    stranger: Phone, person: dict[str, str], menu: str, typed: str, shows: str
) -> None:
    stranger.dial()
    stranger.press(menu)
    screen = stranger.press(person.get(typed, typed))
    if typed == "bill":
        assert screen == f"END Bill {person['bill']} is fully paid. Thank you."
    else:
        assert shows in screen
    assert personal_fields_in(screen, with_name=menu != "6") == []


@pytest.mark.parametrize(
    ("command", "shows"),
    [
        ("BAL {rates_bill}", "balance KES 1,000.00"),
        ("BAL {parcel}", "rates balance KES 1,000.00"),
        ("SALIO 4321", "rates balance KES 1,000.00"),
        ("STATUS {reference}", "We found nothing"),
    ],
)
def test_no_sms_command_shows_the_person_to_another_phone(
    client: Client,
    person: dict[str, str],
    sms_file: Path,
    django_capture_on_commit_callbacks: Any,
    command: str,
    shows: str,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/sms/africastalking/inbound/",
            inbound_sms_form(sender=STRANGER, text=command.format(**person), message_id="ATXid_9"),
        )
    assert response.status_code == 200
    [reply] = [sms for sms in read_sms(sms_file) if sms["to"] == STRANGER_MSISDN]
    assert shows in reply["message"]
    assert personal_fields_in(reply["message"]) == []
