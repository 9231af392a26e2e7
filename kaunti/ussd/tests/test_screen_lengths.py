"""Every USSD screen fits 182 characters, in both languages, whatever the data: long or
accented names, huge amounts. Screens fit by design (values clipped), so the menu
options are never what gets cut."""

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import translation
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kaunti.payments.models import Bill, StkRequest
from kaunti.ussd.engine import HINT_WIDTH, MAX_SCREEN, Hop, with_hint
from kaunti.ussd.menus import SCREENS
from kaunti.ussd.models import PhoneLanguage
from kaunti.ussd.tests.conftest import MSISDN, Phone

pytestmark = pytest.mark.django_db

LANGUAGES = ("en", "sw")
MPESA_MAXIMUM = Decimal(250_000)  # KES, one M-Pesa transaction
ROOM = MAX_SCREEN - len("CON ")
# A hint as long as any is shown, to check a hint and its screen together.
LONG_HINT = "x" * HINT_WIDTH

# Any text a form or the API can store: no control characters (PostgreSQL refuses NUL, and
# Django's forms refuse it before it gets there), no lone surrogates.
storable = st.characters(blacklist_categories=("Cc", "Cs"))
names = st.text(alphabet=storable, min_size=1, max_size=150).filter(lambda name: name.strip())
amounts = st.decimals(min_value=Decimal("1.00"), max_value=Decimal("999999999999.99"), places=2)
references = st.text(alphabet="ACDEFGHJKMNPQRTUVWXY34679-/", min_size=1, max_size=40)
phones = st.sampled_from(["254712000333", "254112345678", "254799999999"])

DATA_SCREENS = {
    "bill_confirm": st.fixed_dictionaries(
        {
            "number": st.text(alphabet="ACDEFGHJKMNPQRTUVWXY34679", min_size=9, max_size=9),
            "description": names,
            "balance": amounts.map(str),
        }
    ),
    "parcel_confirm": st.fixed_dictionaries(
        {
            "parcel": references,
            "balance": amounts.map(str),
            "bill": references,
            "pay": amounts.map(str),
        }
    ),
    "renewal_pay": st.fixed_dictionaries(
        {
            "reference": st.text(alphabet="ACDEFGHJKMNPQRTUVWXY34679", min_size=11, max_size=11),
            "bill": st.text(alphabet="ACDEFGHJKMNPQRTUVWXY34679", min_size=9, max_size=9),
            "amount": amounts.map(str),
        }
    ),
}


# Screens listing choices: the longest values a register or an account may hold.
parcel_numbers = st.lists(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ /0123456789", min_size=1, max_size=120),
    min_size=1,
    max_size=20,
)
LIST_SCREENS = {
    "land": st.fixed_dictionaries({"own": parcel_numbers, "page": st.integers(0, 5)}),
    "parcel_pick": st.fixed_dictionaries({"numbers": parcel_numbers, "page": st.integers(0, 5)}),
    "status_reference": st.fixed_dictionaries(
        {
            "choices": st.lists(
                st.tuples(
                    st.text(alphabet="ACDEFGHJKMNPQRTUVWXY34679-", min_size=11, max_size=11),
                    names,
                ).map(list),
                min_size=1,
                max_size=20,
            ),
            "page": st.integers(0, 5),
        }
    ),
}


def assert_fits(body: str, *, options: tuple[str, ...]) -> None:
    assert len(body) <= ROOM, (len(body), body)
    for option in options:
        assert option in body.split("\n"), (option, body)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", sorted(DATA_SCREENS))
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), phone=phones)
def test_screens_showing_data_fit_for_any_data(
    reference_data: None, name: str, language: str, data: st.DataObject, phone: str
) -> None:
    values = data.draw(DATA_SCREENS[name])
    hop = Hop(session_key="k", phone=phone, language=language)
    with translation.override(language):
        body = SCREENS[name].render(hop, values)
        last = "0. Main menu" if name == "renewal_pay" else "0. Back"
        options = (translation.gettext(last),)
        assert_fits(body, options=options)
        assert body.split("\n")[-2].startswith("1. ")
        assert_fits(with_hint(LONG_HINT, body), options=options)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", sorted(LIST_SCREENS))
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_screens_listing_choices_fit_for_any_choices(
    reference_data: None, name: str, language: str, data: st.DataObject
) -> None:
    values = data.draw(LIST_SCREENS[name])
    hop = Hop(session_key="k", phone=MSISDN, language=language)
    with translation.override(language):
        body = SCREENS[name].render(hop, values)
        assert_fits(with_hint(LONG_HINT, body), options=(translation.gettext("0. Back"),))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    "name", sorted(set(SCREENS) - set(DATA_SCREENS) - {"report_ward", "parcel_pick"})
)
def test_every_other_screen_fits_with_its_longest_hint(
    catalogue: None, name: str, language: str
) -> None:
    hop = Hop(session_key="k", phone=MSISDN, language=language)
    with translation.override(language):
        body = SCREENS[name].render(hop, {"page": 0})
        assert_fits(body, options=())
        assert_fits(with_hint(LONG_HINT, body), options=())


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("sub_county", ["089", "090", "091", "092", "093"])
def test_every_ward_list_fits(catalogue: None, language: str, sub_county: str) -> None:
    hop = Hop(session_key="k", phone=MSISDN, language=language)
    with translation.override(language):
        for page in (0, 1):
            body = SCREENS["report_ward"].render(hop, {"page": page, "sub_county": sub_county})
            assert_fits(with_hint(LONG_HINT, body), options=(translation.gettext("0. Back"),))


@pytest.mark.parametrize("language", LANGUAGES)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payer=names, description=names, amount=amounts)
@example(payer="Wanjiku", description="Market fees", amount=Decimal("250000.00"))
@example(
    payer="Ñjoroge Wanjikũ " * 9, description="Ada ya soko " * 16, amount=Decimal("999999999999.99")
)
def test_paying_any_bill_over_http_shows_screens_that_fit(
    make_bill: Callable[..., Bill],
    client: Client,
    language: str,
    payer: str,
    description: str,
    amount: Decimal,
) -> None:
    cache.clear()  # each example is a new caller as far as the rate limit goes
    bill = make_bill(amount, payer_name=payer, description=description[:200])
    PhoneLanguage.objects.update_or_create(phone=MSISDN, defaults={"language": language})
    phone = Phone(client)  # asserts every screen's prefix and length
    phone.dial()
    phone.press("1")
    confirm = phone.press(bill.number)
    with translation.override(language):
        assert confirm.endswith("\n" + translation.gettext("0. Back"))
    assert confirm.startswith("CON ")
    ended = phone.press("1")
    assert ended.startswith("END ")
    if amount <= MPESA_MAXIMUM:
        # Above M-Pesa's limit payments cannot prompt (and on PostgreSQL the prompt's
        # amount column overflows): the screen still fits, which is what is tested here.
        assert StkRequest.objects.filter(bill=bill).count() == 1
