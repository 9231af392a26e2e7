"""Citizens sign up and sign in with a phone number and a 6-digit code sent by SMS.

These tests commit (`transaction=True`): an SMS leaves only once its transaction commits,
exactly as in production, and the file SMS backend (`sms_file`) shows what was sent.
"""

import hashlib
import re
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user
from django.db.models import F
from django.test import Client
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext
from pytest_django import Settings
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from kaunti.accounts import services
from kaunti.accounts.models import PrivacyConsent, SignInCode, User
from kaunti.accounts.tests.factories import CitizenFactory
from kaunti.accounts.views import PENDING_CODE
from kaunti.conftest import read_sms
from kaunti.core.models import AuditEvent, OutboxMessage

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db(transaction=True)

SIGN_UP = "/account/sign-up/"
SIGN_IN = "/account/sign-in/"
ENTER_CODE = "/account/code/"
RESEND_CODE = "/account/code/resend/"
MY_ACCOUNT = "/account/"

CODE_SMS = re.compile(
    r"^(\d{6}) is your county sign-in code\. It expires in 5 minutes\. "
    r"County staff will never ask you for it\.$"
)
CODE_SMS_SW = re.compile(
    r"^(\d{6}) ni nambari yako ya kuingia kwenye huduma za kaunti\. "
    r"Itaisha baada ya dakika 5\. Wafanyakazi wa kaunti hawatakuuliza nambari hii\.$"
)

# The `citizen` fixture's phone, as people type it and as it is stored.
CITIZEN_PHONE_TYPED = "0712 000 111"
CITIZEN_PHONE = "254712000111"


def sign_up(
    client: Client,
    *,
    full_name: str = "Wanjiru Njoroge",
    phone: str = "0712 345 678",
    consent: bool = True,
    ip: str = "127.0.0.1",
) -> "Response":
    data = {"full_name": full_name, "phone": phone}
    if consent:
        data["consent"] = "on"
    return client.post(SIGN_UP, data, REMOTE_ADDR=ip)


def sign_in(client: Client, *, phone: str, ip: str = "127.0.0.1") -> "Response":
    return client.post(SIGN_IN, {"phone": phone}, REMOTE_ADDR=ip)


def enter_code(client: Client, code: str) -> "Response":
    return client.post(ENTER_CODE, {"code": code})


def codes_sent(sms_file: Path, *, to: str, pattern: re.Pattern[str] = CODE_SMS) -> list[str]:
    """The codes in the SMS sent to `to`, oldest first; fails on an SMS of another shape."""
    codes = []
    for sms in read_sms(sms_file):
        if sms["to"] == to:
            match = pattern.match(sms["message"])
            assert match, sms["message"]
            codes.append(match.group(1))
    return codes


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def state(sms_file: Path) -> dict[str, Any]:
    """Everything a refused request must leave as it was."""
    return {
        "users": list(User.objects.order_by("pk").values_list("username", "full_name")),
        "consents": PrivacyConsent.objects.count(),
        "codes": list(
            SignInCode.objects.order_by("pk").values_list("public_id", "attempts", "used_at")
        ),
        "sms": read_sms(sms_file),
        "audit": AuditEvent.objects.count(),
    }


def in_kiswahili(message: str) -> str:
    with translation.override("sw"):
        swahili = gettext(message)
    assert swahili != message, (
        f"no Kiswahili translation for {message!r}: is kaunti/locale/sw/LC_MESSAGES/django.mo "
        "compiled?"
    )
    return swahili


# --- Signing up --------------------------------------------------------------------------


def test_sign_up_by_sms_code_creates_a_signed_in_citizen_with_recorded_consent(
    client: Client, sms_file: Path
) -> None:
    response = sign_up(client, full_name="  Wanjiru   Njoroge ", phone="0712 345 678")

    assertRedirects(response, ENTER_CODE, fetch_redirect_response=False)
    [code] = codes_sent(sms_file, to="254712345678")
    assert [sms["to"] for sms in read_sms(sms_file)] == ["254712345678"]
    code_page = client.get(ENTER_CODE)
    assertContains(code_page, "We have sent an SMS with a 6-digit code to 0712 *** 678.")
    assert User.objects.count() == 0

    before = timezone.now()
    response = enter_code(client, code)
    after = timezone.now()

    assertRedirects(response, MY_ACCOUNT, fetch_redirect_response=False)
    citizen = User.objects.get()
    assert (citizen.username, citizen.phone, citizen.kind, citizen.full_name) == (
        "254712345678",
        "254712345678",
        "citizen",
        "Wanjiru Njoroge",
    )
    assert citizen.preferred_language == "en"
    assert not citizen.has_usable_password()
    assert get_user(client) == citizen
    consent = PrivacyConsent.objects.get()
    assert consent.user == citizen
    assert consent.notice_version == settings.PRIVACY_NOTICE_VERSION
    assert consent.channel == "web"
    assert consent.withdrawn_at is None
    assert before <= consent.given_at <= after
    event = AuditEvent.objects.get(action="accounts.citizen_registered")
    assert (event.actor_id, event.target_id) == (citizen.pk, str(citizen.pk))
    assert event.data == {"notice_version": settings.PRIVACY_NOTICE_VERSION, "channel": "web"}
    account_page = client.get(MY_ACCOUNT)
    assertContains(account_page, '<h1 class="govuk-heading-l">My account</h1>', html=True)
    assertContains(account_page, "Signed in with 0712 *** 678.")
    assertContains(account_page, f"You agreed to privacy notice {settings.PRIVACY_NOTICE_VERSION}")


def test_sign_in_code_is_stored_only_as_a_keyed_hash(client: Client, sms_file: Path) -> None:
    sign_up(client, phone="0712 345 678")

    [code] = codes_sent(sms_file, to="254712345678")
    record = SignInCode.objects.values().get()
    assert all(code not in str(value) for value in record.values()), record
    assert len(record["code_hash"]) == 64
    assert record["code_hash"] != hashlib.sha256(code.encode()).hexdigest()
    assert record["phone"] == "254712345678"
    assert record["purpose"] == "sign_up"


@pytest.mark.parametrize(
    ("phone", "consent", "errors"),
    [
        (
            "0212 345 678",
            True,
            ["Enter a Kenyan mobile number, like 0712 345 678 or +254 712 345 678."],
        ),
        (
            "0712 345 678",
            False,
            ["You must agree to the privacy notice to create an account."],
        ),
        (
            "07x2 345 678",
            False,
            [
                "Enter a phone number using digits only, like 0712 345 678.",
                "You must agree to the privacy notice to create an account.",
            ],
        ),
    ],
)
def test_refused_sign_up_keeps_what_was_typed_and_shows_the_errors(
    client: Client, sms_file: Path, phone: str, consent: bool, errors: list[str]
) -> None:
    response = sign_up(client, full_name="Achieng Otieno", phone=phone, consent=consent)

    assert response.status_code == 200
    assertContains(response, "There is a problem")
    for error in errors:
        assertContains(response, escape(error), count=2)  # the summary and the field
    assertContains(response, 'value="Achieng Otieno"')
    assertContains(response, f'value="{phone}"')
    if consent:
        assertContains(response, 'name="consent" type="checkbox" value="on" ')
        assertContains(response, " checked>")
    else:
        assertNotContains(response, " checked>")
    assert state(sms_file) == {"users": [], "consents": 0, "codes": [], "sms": [], "audit": 0}
    assert PENDING_CODE not in client.session


def test_sign_up_for_a_phone_with_an_account_is_told_to_sign_in(
    client: Client, citizen: User, sms_file: Path
) -> None:
    before = state(sms_file)

    response = sign_up(client, full_name="Someone Else", phone=CITIZEN_PHONE_TYPED)

    assert response.status_code == 200
    assertContains(response, "This phone number already has an account. Sign in instead.")
    assertContains(response, f'href="{SIGN_IN}"')
    assertContains(response, 'value="Someone Else"')
    assert state(sms_file) == before
    assert before["codes"] == []
    assert PENDING_CODE not in client.session


def test_sign_up_for_the_phone_of_a_closed_account_is_refused_and_sends_nothing(
    client: Client, citizen: User, sms_file: Path
) -> None:
    citizen.is_active = False
    citizen.save()
    before = state(sms_file)

    response = sign_up(client, full_name="Someone Else", phone=CITIZEN_PHONE_TYPED)

    assertContains(response, "This phone number already has an account. Sign in instead.")
    assert state(sms_file) == before
    assert PENDING_CODE not in client.session


def test_account_taking_the_phone_while_the_code_was_pending_refuses_sign_up_cleanly(
    client: Client, sms_file: Path
) -> None:
    sign_up(client, phone="0712 345 678")
    [code] = codes_sent(sms_file, to="254712345678")
    CitizenFactory.create(phone="254712345678", full_name="First Comer", is_active=False)

    response = enter_code(client, code)

    assertContains(response, "This phone number already has an account. Sign in instead.")
    assert list(User.objects.values_list("full_name", flat=True)) == ["First Comer"]
    assert PrivacyConsent.objects.count() == 0
    assert not get_user(client).is_authenticated


# --- Signing in --------------------------------------------------------------------------


def test_sign_in_by_sms_code_signs_the_citizen_in(
    client: Client, citizen: User, sms_file: Path
) -> None:
    response = sign_in(client, phone=CITIZEN_PHONE_TYPED)

    assertRedirects(response, ENTER_CODE, fetch_redirect_response=False)
    [code] = codes_sent(sms_file, to=CITIZEN_PHONE)
    response = enter_code(client, code)

    assertRedirects(response, MY_ACCOUNT, fetch_redirect_response=False)
    assert get_user(client) == citizen
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assertContains(client.get(MY_ACCOUNT), "Signed in with 0712 *** 111.")
    assert User.objects.count() == 1
    assert PrivacyConsent.objects.count() == 0


def test_sign_in_for_an_unknown_phone_looks_the_same_but_sends_nothing(
    citizen: User, sms_file: Path
) -> None:
    known, unknown = Client(), Client()

    known_answer = sign_in(known, phone=CITIZEN_PHONE_TYPED)
    unknown_answer = sign_in(unknown, phone="0733 000 222")

    assertRedirects(known_answer, ENTER_CODE, fetch_redirect_response=False)
    assertRedirects(unknown_answer, ENTER_CODE, fetch_redirect_response=False)

    def page(client: Client, masked_phone: str) -> str:
        html = client.get(ENTER_CODE).content.decode()
        assert masked_phone in html
        html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "CSRF", html)
        return html.replace(masked_phone, "PHONE")

    assert page(unknown, "0733 *** 222") == page(known, "0712 *** 111")
    assert [sms["to"] for sms in read_sms(sms_file)] == [CITIZEN_PHONE]
    assert not OutboxMessage.objects.filter(recipient="254733000222").exists()
    assert SignInCode.objects.filter(phone="254733000222").count() == 1

    # Whatever is tried, nobody is signed in and no account appears.
    response = enter_code(unknown, "123456")
    assertContains(response, "That code is not right. Check the SMS and try again.")
    assert not get_user(unknown).is_authenticated
    assert list(User.objects.values_list("phone", flat=True)) == [CITIZEN_PHONE]


def test_refused_code_form_shows_the_error_and_counts_no_attempt(
    client: Client, sms_file: Path
) -> None:
    sign_up(client)
    before = state(sms_file)

    response = enter_code(client, "12345")

    assertContains(response, "The code is 6 digits, like 123456.", count=2)
    assert state(sms_file) == before
    assert not get_user(client).is_authenticated


@pytest.mark.parametrize(
    "code",
    ["\u0661\u0662\u0663\u0664\u0665\u0666", "\uff11\uff12\uff13\uff14\uff15\uff16", "12345\u0666"],
)
def test_a_code_in_digits_other_than_0_to_9_is_refused_and_counts_no_attempt(
    client: Client, sms_file: Path, code: str
) -> None:
    sign_up(client)
    before = state(sms_file)

    response = enter_code(client, code)

    assertContains(response, "The code is 6 digits, like 123456.", count=2)
    assert state(sms_file) == before
    assert not get_user(client).is_authenticated


def test_code_page_without_a_code_request_goes_to_sign_in(client: Client) -> None:
    assertRedirects(client.get(ENTER_CODE), SIGN_IN, fetch_redirect_response=False)
    assertRedirects(enter_code(client, "123456"), SIGN_IN, fetch_redirect_response=False)
    assert not get_user(client).is_authenticated


# --- What a code is worth ----------------------------------------------------------------


def test_code_expires_five_minutes_after_it_is_sent(client: Client, sms_file: Path) -> None:
    sign_up(client)
    [code] = codes_sent(sms_file, to="254712345678")
    record = SignInCode.objects.get()
    lifetime = record.expires_at - record.created_at
    assert timedelta(seconds=299) < lifetime <= timedelta(seconds=300)
    # Time travel: the code was sent five minutes and one second ago.
    age = timedelta(minutes=5, seconds=1)
    SignInCode.objects.update(created_at=F("created_at") - age, expires_at=F("expires_at") - age)
    before = state(sms_file)

    response = enter_code(client, code)

    assertContains(response, "This code has expired. Ask for a new one.", count=2)
    assert state(sms_file) == before
    assert before["codes"] == [(record.public_id, 0, None)]
    assert not get_user(client).is_authenticated


def test_code_still_works_just_before_five_minutes(client: Client, sms_file: Path) -> None:
    sign_up(client)
    [code] = codes_sent(sms_file, to="254712345678")
    age = timedelta(minutes=4, seconds=59)
    SignInCode.objects.update(created_at=F("created_at") - age, expires_at=F("expires_at") - age)

    response = enter_code(client, code)

    assertRedirects(response, MY_ACCOUNT, fetch_redirect_response=False)
    assert get_user(client) == User.objects.get(phone="254712345678")


def test_sixth_attempt_is_refused_even_with_the_right_code(client: Client, sms_file: Path) -> None:
    assert settings.SIGN_IN_CODE_MAX_ATTEMPTS == 5
    sign_up(client)
    [code] = codes_sent(sms_file, to="254712345678")

    messages = [enter_code(client, wrong(code)) for _attempt in range(5)]

    for response in messages[:4]:
        assertContains(response, "That code is not right. Check the SMS and try again.")
    assertContains(messages[4], "Too many wrong codes. Ask for a new one.")
    record = SignInCode.objects.get()
    assert (record.attempts, record.used_at) == (5, None)
    before = state(sms_file)

    response = enter_code(client, code)

    assertContains(response, "Too many wrong codes. Ask for a new one.", count=2)
    assert state(sms_file) == before
    assert User.objects.count() == 0
    assert not get_user(client).is_authenticated


def test_right_code_on_the_fifth_attempt_is_accepted(client: Client, sms_file: Path) -> None:
    sign_up(client)
    [code] = codes_sent(sms_file, to="254712345678")
    for _attempt in range(4):
        enter_code(client, wrong(code))

    response = enter_code(client, code)

    assertRedirects(response, MY_ACCOUNT, fetch_redirect_response=False)
    assert SignInCode.objects.get().attempts == 5
    assert get_user(client) == User.objects.get(phone="254712345678")


def test_used_code_cannot_be_used_again(client: Client, citizen: User, sms_file: Path) -> None:
    sign_in(client, phone=CITIZEN_PHONE_TYPED)
    [code] = codes_sent(sms_file, to=CITIZEN_PHONE)
    enter_code(client, code)
    assert get_user(client) == citizen
    client.post("/account/sign-out/")
    record = SignInCode.objects.get()
    assert record.used_at is not None
    before = state(sms_file)

    with pytest.raises(services.SignInCodeError) as refusal:
        services.verify_sign_in_code(code_id=record.public_id, code=code)
    response = enter_code(client, code)

    assert str(refusal.value) == "This code is no longer valid. Ask for a new one."
    assertRedirects(response, SIGN_IN, fetch_redirect_response=False)
    assert not get_user(client).is_authenticated
    assert state(sms_file) == before


def test_new_code_makes_earlier_codes_stop_working(client: Client, sms_file: Path) -> None:
    sign_up(client)
    first_record = SignInCode.objects.get()

    response = client.post(RESEND_CODE)

    assertRedirects(response, ENTER_CODE, fetch_redirect_response=False)
    first_code, second_code = codes_sent(sms_file, to="254712345678")
    assertContains(client.get(ENTER_CODE), "We sent a new code. Earlier codes no longer work.")
    first_record.refresh_from_db()
    assert first_record.used_at is not None
    with pytest.raises(services.SignInCodeError) as refusal:
        services.verify_sign_in_code(code_id=first_record.public_id, code=first_code)
    assert str(refusal.value) == "This code is no longer valid. Ask for a new one."
    assertContains(
        enter_code(client, first_code), "That code is not right. Check the SMS and try again."
    )
    assert User.objects.count() == 0

    response = enter_code(client, second_code)

    assertRedirects(response, MY_ACCOUNT, fetch_redirect_response=False)
    assert User.objects.get().full_name == "Wanjiru Njoroge"


# --- Rate limits ---------------------------------------------------------------------------


def test_code_sends_are_limited_per_phone(client: Client, citizen: User, sms_file: Path) -> None:
    limit = settings.SIGN_IN_CODE_SENDS_PER_PHONE_PER_HOUR
    for attempt in range(limit):
        response = sign_in(client, phone=CITIZEN_PHONE_TYPED, ip=f"10.0.0.{attempt + 1}")
        assertRedirects(response, ENTER_CODE, fetch_redirect_response=False)
    assert len(codes_sent(sms_file, to=CITIZEN_PHONE)) == limit
    pending = client.session[PENDING_CODE]
    before = state(sms_file)

    response = sign_in(client, phone=CITIZEN_PHONE_TYPED, ip="10.0.1.1")

    assertContains(response, "Too many codes were requested. Wait an hour, then try again.")
    assert state(sms_file) == before
    assert client.session[PENDING_CODE] == pending
    # Another phone from the same address is still served.
    assertRedirects(
        sign_up(Client(), phone="0712 345 678", ip="10.0.1.1"),
        ENTER_CODE,
        fetch_redirect_response=False,
    )
    assert len(codes_sent(sms_file, to="254712345678")) == 1


def test_code_sends_are_limited_per_address(client: Client, sms_file: Path) -> None:
    limit = settings.SIGN_IN_CODE_SENDS_PER_IP_PER_HOUR
    for number in range(limit):
        response = sign_up(client, phone=f"07120000{number:02d}", ip="196.201.214.10")
        assertRedirects(response, ENTER_CODE, fetch_redirect_response=False)
    assert len(read_sms(sms_file)) == limit
    before = state(sms_file)

    response = sign_up(client, phone="0712 345 678", ip="196.201.214.10")

    assertContains(response, "Too many codes were requested. Wait an hour, then try again.")
    assert state(sms_file) == before
    # The same phone from another address is still served.
    assertRedirects(
        sign_up(Client(), phone="0712 345 678", ip="196.201.214.11"),
        ENTER_CODE,
        fetch_redirect_response=False,
    )
    assert len(codes_sent(sms_file, to="254712345678")) == 1


def test_operator_can_lower_the_per_phone_limit(
    client: Client, citizen: User, sms_file: Path, settings: Settings
) -> None:
    settings.SIGN_IN_CODE_SENDS_PER_PHONE_PER_HOUR = 1

    first = sign_in(client, phone=CITIZEN_PHONE_TYPED)
    second = sign_in(client, phone=CITIZEN_PHONE_TYPED)

    assertRedirects(first, ENTER_CODE, fetch_redirect_response=False)
    assertContains(second, "Too many codes were requested. Wait an hour, then try again.")
    assert len(codes_sent(sms_file, to=CITIZEN_PHONE)) == 1


# --- Kiswahili ----------------------------------------------------------------------------


def test_sign_up_errors_are_in_kiswahili_when_chosen(client: Client, sms_file: Path) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sw"

    response = sign_up(client, full_name="Achieng Otieno", phone="0212 345 678", consent=False)

    assert response.status_code == 200
    assertContains(response, '<html lang="sw"')
    for message in (
        "Enter a Kenyan mobile number, like 0712 345 678 or +254 712 345 678.",
        "You must agree to the privacy notice to create an account.",
    ):
        assertContains(response, escape(in_kiswahili(message)), count=2)
        assertNotContains(response, escape(message))
    assert state(sms_file) == {"users": [], "consents": 0, "codes": [], "sms": [], "audit": 0}


def test_service_refusals_are_in_kiswahili_when_chosen(
    client: Client, citizen: User, sms_file: Path
) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sw"
    before = state(sms_file)

    response = sign_up(client, phone=CITIZEN_PHONE_TYPED)

    message = "This phone number already has an account. Sign in instead."
    assertContains(response, escape(in_kiswahili(message)))
    assertNotContains(response, escape(message))
    assert state(sms_file) == before


def test_sign_up_in_kiswahili_sends_a_kiswahili_sms_and_remembers_the_language(
    client: Client, sms_file: Path
) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sw"

    sign_up(client)
    [code] = codes_sent(sms_file, to="254712345678", pattern=CODE_SMS_SW)
    response = enter_code(client, code)

    assertRedirects(response, MY_ACCOUNT, fetch_redirect_response=False)
    assert User.objects.get().preferred_language == "sw"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "sw"
