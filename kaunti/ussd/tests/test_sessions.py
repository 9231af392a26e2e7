"""Whole USSD sessions through the Africa's Talking endpoint, in English and Kiswahili."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from kaunti.accounts.models import PrivacyConsent, User
from kaunti.core import ratelimit
from kaunti.core.models import OutboxMessage
from kaunti.core.services.documents import register_document
from kaunti.eservices.models import Application, Complaint
from kaunti.eservices.services.applications.submission import submit_application
from kaunti.payments.models import Bill, StkRequest
from kaunti.payments.numbering import check_character
from kaunti.ussd.engine import MAX_STEPS
from kaunti.ussd.models import PhoneLanguage
from kaunti.ussd.tests.conftest import MSISDN, USSD_URL, Phone
from kaunti.ussd.tests.factories import PhoneLanguageFactory
from kaunti.ussd.views import SESSIONS_PER_PHONE_PER_MINUTE

pytestmark = pytest.mark.django_db

MakeBill = Callable[..., Bill]

FIRST = "CON Karibu Nyandarua\nChoose language / Chagua lugha\n1. English\n2. Kiswahili"
MAIN_EN = (
    "CON Nyandarua County\n1. Pay a bill\n2. Land rates\n3. Renew business permit\n"
    "4. Application status\n5. Report a problem\n6. Verify permit/receipt\n7. Language"
)
MAIN_SW = (
    "CON Kaunti ya Nyandarua\n1. Lipa bili\n2. Kodi ya ardhi\n3. Rejesha kibali cha biashara\n"
    "4. Hali ya ombi\n5. Ripoti tatizo\n6. Hakiki kibali/risiti\n7. Lugha"
)


def speaks(phone: Phone, language: str) -> None:
    """This phone chose its language in an earlier session."""
    PhoneLanguageFactory.create(language=language)


# --- Language ------------------------------------------------------------------------------


def test_first_use_asks_the_language_and_remembers_it_for_the_next_session(
    phone: Phone,
) -> None:
    assert phone.dial() == FIRST
    assert phone.press("2") == MAIN_SW
    assert PhoneLanguage.objects.get(phone=MSISDN).language == "sw"

    assert phone.dial() == MAIN_SW


def test_a_wrong_answer_to_the_language_question_asks_again_in_both_languages(
    phone: Phone,
) -> None:
    phone.dial()
    assert phone.press("5") == (
        "CON Choose 1 or 2 / Chagua 1 au 2\nKaribu Nyandarua\nChoose language / Chagua lugha\n"
        "1. English\n2. Kiswahili"
    )
    assert PhoneLanguage.objects.count() == 0
    assert phone.press("1") == MAIN_EN


def test_the_language_can_be_changed_from_the_main_menu(phone: Phone, citizen: User) -> None:
    citizen.phone = citizen.username = MSISDN
    citizen.save()
    speaks(phone, "en")
    phone.dial()
    assert phone.press("7") == "CON Choose language\n1. English\n2. Kiswahili\n0. Back"
    assert phone.press("2") == MAIN_SW
    assert PhoneLanguage.objects.get(phone=MSISDN).language == "sw"
    citizen.refresh_from_db()
    assert citizen.preferred_language == "sw"  # SMS to them follow


# --- Navigation ------------------------------------------------------------------------------


def test_wrong_input_re_asks_with_a_hint_and_back_and_home_navigate(phone: Phone) -> None:
    speaks(phone, "en")
    assert phone.dial() == MAIN_EN
    assert phone.press("8") == (
        "CON Choose a number from the menu.\n1. Pay a bill\n2. Land rates\n"
        "3. Renew business permit\n4. Application status\n5. Report a problem\n"
        "6. Verify permit/receipt\n7. Language"
    )
    assert phone.press("1") == "CON Enter the bill number\n0. Back"
    assert phone.press("0") == MAIN_EN
    assert phone.press("6") == "CON Enter the code on the permit or receipt\n0. Back"
    assert phone.press("00") == MAIN_EN


def test_a_step_sent_twice_gets_the_same_answer_and_prompts_once(
    phone: Phone, make_bill: MakeBill
) -> None:
    bill = make_bill(Decimal("1500.00"))
    speaks(phone, "en")
    phone.dial()
    phone.press("1")
    phone.press(bill.number)
    ended = phone.press("1")

    assert phone.resend() == ended
    assert StkRequest.objects.count() == 1


def test_a_session_the_server_does_not_know_ends_politely(client: Client, db: None) -> None:
    response = client.post(
        USSD_URL,
        {
            "sessionId": "ATUid_lost",
            "serviceCode": "*000*18#",
            "phoneNumber": "+254712000333",
            "networkCode": "63902",
            "text": "1*2",
        },
    )
    assert response.content.decode() == "END Your session has ended. Please dial again."


def test_a_number_that_is_not_a_kenyan_mobile_is_turned_away(client: Client, db: None) -> None:
    response = client.post(
        USSD_URL,
        {"sessionId": "ATUid_x", "phoneNumber": "+441632960000", "text": "", "networkCode": "1"},
    )
    assert response.content.decode() == "END This service is for Kenyan mobile numbers."


# --- Pay a bill -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "confirm", "ended"),
    [
        (
            "en",
            "CON Bill {number}\nMarket fees\nBalance KES 1,500.00\n"
            "1. Pay from 0712 *** 333\n0. Back",
            "END You will get an M-Pesa prompt for KES 1,500.00 on this phone. Enter your "
            "M-Pesa PIN to pay. Your receipt comes by SMS.",
        ),
        (
            "sw",
            "CON Bili {number}\nMarket fees\nSalio KES 1,500.00\n"
            "1. Lipa kutoka 0712 *** 333\n0. Rudi",
            "END Utapokea ombi la M-Pesa la KES 1,500.00 kwenye simu hii. Weka PIN yako ya "
            "M-Pesa kulipa. Risiti itakuja kwa SMS.",
        ),
    ],
)
def test_paying_a_bill_shows_payer_and_balance_then_starts_an_mpesa_prompt(
    phone: Phone, make_bill: MakeBill, language: str, confirm: str, ended: str
) -> None:
    bill = make_bill(Decimal("1500.00"))
    speaks(phone, language)
    phone.dial()
    phone.press("1")
    assert phone.press(bill.number.lower()) == confirm.format(number=bill.number)
    assert phone.press("1") == ended

    stk = StkRequest.objects.get()
    assert (stk.bill_id, stk.phone, stk.amount, stk.channel, stk.status) == (
        bill.pk,
        MSISDN,
        1500,
        "ussd",
        "requested",
    )
    # The prompt is sent by a task after commit, never inside the step.
    assert stk.checkout_request_id is None


@pytest.mark.parametrize(
    ("language", "typed", "hint"),
    [
        ("en", "ABCDEFGH3", "That is not a bill number. Check it."),
        ("sw", "ABCDEFGH3", "Hiyo si nambari ya bili. Iangalie."),
        ("en", "ACDEFGHJK", "No bill has this number."),
        ("sw", "ACDEFGHJK", "Hakuna bili yenye nambari hii."),
    ],
)
def test_an_unknown_or_mistyped_bill_number_is_asked_again(
    phone: Phone, county: None, language: str, typed: str, hint: str
) -> None:
    if typed == "ACDEFGHJK":  # a well-formed number no bill has
        typed = "ACDEFGHJ" + check_character("ACDEFGHJ")
    speaks(phone, language)
    phone.dial()
    prompt = phone.press("1")
    assert phone.press(typed) == f"CON {hint}\n" + prompt.removeprefix("CON ")
    assert StkRequest.objects.count() == 0


def test_a_paid_bill_ends_the_session_with_thanks(phone: Phone, make_bill: MakeBill) -> None:
    bill = make_bill(Decimal("200.00"))
    Bill.objects.filter(pk=bill.pk).update(status="paid", paid=Decimal("200.00"))
    speaks(phone, "en")
    phone.dial()
    phone.press("1")
    assert phone.press(bill.number) == f"END Bill {bill.number} is fully paid. Thank you."
    assert StkRequest.objects.count() == 0


def test_going_back_from_the_confirmation_leaves_the_bill_unpaid(
    phone: Phone, make_bill: MakeBill
) -> None:
    bill = make_bill()
    speaks(phone, "en")
    phone.dial()
    phone.press("1")
    phone.press(bill.number)
    assert phone.press("0") == "CON Enter the bill number\n0. Back"
    assert phone.press("00") == MAIN_EN
    assert StkRequest.objects.count() == 0


# --- Application status -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "END {reference}\nUnified Business Permit\nStatus: Submitted, awaiting payment"),
        (
            "sw",
            "END {reference}\nKibali cha Biashara cha Pamoja\n"
            "Hali: Imewasilishwa, inasubiri malipo",
        ),
    ],
)
def test_application_status_is_shown_to_the_applicants_phone(
    client: Client, citizen: User, draft_ubp: Application, language: str, expected: str
) -> None:
    submitted = submit_application(application=draft_ubp, actor=citizen)
    phone = Phone(client, number=citizen.phone or "")
    PhoneLanguageFactory.create(phone=str(citizen.phone), language=language)
    phone.dial()
    phone.press("4")
    assert phone.press(submitted.reference.replace("-", "").lower()) == expected.format(
        reference=submitted.reference
    )


def test_another_phone_learns_nothing_about_an_application(
    phone: Phone, citizen: User, draft_ubp: Application
) -> None:
    submitted = submit_application(application=draft_ubp, actor=citizen)
    speaks(phone, "en")
    phone.dial()
    phone.press("4")
    assert phone.press(submitted.reference) == (
        "CON Not found for this phone.\nEnter the reference, like APP-7KQ3MXA\n0. Back"
    )


# --- Report a problem ----------------------------------------------------------------------


def test_a_new_caller_consents_names_themself_and_reports_a_problem(
    phone: Phone, county: None
) -> None:
    speaks(phone, "en")
    phone.dial()
    assert phone.press("5") == (
        "CON To deal with your report the county keeps your phone number, name and report "
        "(Data Protection Act 2019).\n1. I agree\n2. No, thanks"
    )
    assert phone.press("1") == "CON Enter your full name\n0. Back"
    assert phone.press("Jane Wambui") == (
        "CON What is the problem about?\n1. Roads, drainage and str..\n2. Water supply\n"
        "3. Garbage and environment\n4. Health facilities and p..\n9. More\n0. Back"
    )
    assert phone.press("2") == (
        "CON Which sub-county?\n1. Kinangop\n2. Kipipiri\n3. Ol Kalou\n4. Ol Joro Orok\n"
        "9. More\n0. Back"
    )
    assert phone.press("3") == (
        "CON Which ward?\n1. Karau\n2. Kanjuiri Ridge\n3. Mirangine\n4. Kaimbaga\n9. More\n0. Back"
    )
    assert phone.press("9") == "CON Which ward?\n1. Rurii\n0. Back"
    assert phone.press("1") == "CON Describe the problem in a few words\n0. Back"
    ended = phone.press("No water at Rurii since Monday")

    complaint = Complaint.objects.get()
    assert ended == (
        f"END Report received: {complaint.reference}. We have sent the reference by SMS."
    )
    user = User.objects.get(phone=MSISDN)
    assert (user.full_name, user.kind, user.preferred_language) == ("Jane Wambui", "citizen", "en")
    consent = PrivacyConsent.objects.get(user=user)
    assert consent.channel == "ussd"
    assert (complaint.complainant_id, complaint.category.code, complaint.ward.code) == (
        user.pk,
        "water",
        "0457",
    )
    assert complaint.description == "No water at Rurii since Monday"
    sms = OutboxMessage.objects.get(recipient=MSISDN)
    assert complaint.reference in sms.body


def test_declining_consent_keeps_nothing(phone: Phone, county: None) -> None:
    speaks(phone, "sw")
    phone.dial()
    phone.press("5")
    assert phone.press("2") == "END Hakuna kilichohifadhiwa. Kwaheri."
    assert User.objects.filter(phone=MSISDN).count() == 0
    assert Complaint.objects.count() == 0


def test_a_citizen_with_an_account_reports_in_kiswahili_without_being_asked_again(
    client: Client, citizen: User, county: None
) -> None:
    phone = Phone(client, number=citizen.phone or "")
    PhoneLanguageFactory.create(phone=str(citizen.phone), language="sw")
    phone.dial()
    assert phone.press("5").startswith("CON Tatizo linahusu nini?\n1. Barabara, mifereji na t..")
    phone.press("1")
    phone.press("1")
    phone.press("1")
    ended = phone.press("Barabara imeharibika")

    complaint = Complaint.objects.get()
    assert ended == (
        f"END Ripoti imepokelewa: {complaint.reference}. Tumekutumia nambari hii kwa SMS."
    )
    assert complaint.complainant_id == citizen.pk
    assert PrivacyConsent.objects.filter(user=citizen).count() == 0


# --- Verify a document ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "END VALID\nPermit UBP/2026/7KQ3MXA\nMama Njeri Salon\nValid until 30/06/2099"),
        ("sw", "END HALALI\nKibali UBP/2026/7KQ3MXA\nMama Njeri Salon\nHadi 30/06/2099"),
    ],
)
def test_verifying_a_code_shows_the_document(
    phone: Phone, db: None, language: str, expected: str
) -> None:
    register_document(
        kind="permit",
        number="UBP/2026/7KQ3MXA",
        holder_name="Mama Njeri Salon",
        issued_at=timezone.now(),
        source_type="test",
        source_ref="1",
        valid_until=date(2099, 6, 30),
        verification_code="ACDEFGHJKMNPQ",
    )
    speaks(phone, language)
    phone.dial()
    phone.press("6")
    assert phone.press("acdefghjkmnpq") == expected


def test_an_unknown_code_is_asked_again(phone: Phone, db: None) -> None:
    speaks(phone, "en")
    phone.dial()
    phone.press("6")
    assert phone.press("NOSUCHCODE") == (
        "CON No document has this code.\nEnter the code on the permit or receipt\n0. Back"
    )


# --- Limits ----------------------------------------------------------------------------------


def test_a_phone_starting_too_many_sessions_is_asked_to_wait(phone: Phone) -> None:
    speaks(phone, "en")
    for _session in range(SESSIONS_PER_PHONE_PER_MINUTE):
        assert phone.dial() == MAIN_EN

    assert phone.dial() == "END Too many requests. Please try again in a minute."
    other = Phone(phone.client, number="0722000444")
    assert other.dial() == FIRST  # another phone is not held up


def test_a_person_dialling_again_and_again_is_not_refused(phone: Phone) -> None:
    """Seven sessions in three minutes (a caller whose sessions dropped) were refused."""
    speaks(phone, "en")
    for _session in range(9):
        assert phone.dial() == MAIN_EN
        assert phone.press("6").startswith("CON Enter the code")


def test_the_gateway_resending_a_first_step_is_not_another_session(phone: Phone) -> None:
    speaks(phone, "en")
    for _session in range(SESSIONS_PER_PHONE_PER_MINUTE):
        assert phone.dial() == MAIN_EN
        for _resend in range(3):
            assert phone.resend() == MAIN_EN

    assert phone.dial() == "END Too many requests. Please try again in a minute."


def test_sessions_an_hour_are_limited_too_and_the_limits_are_settings(
    phone: Phone, settings: Any
) -> None:
    settings.USSD_SESSIONS_PER_PHONE_PER_MINUTE = 2
    settings.USSD_SESSIONS_PER_PHONE_PER_HOUR = 3
    speaks(phone, "en")
    assert [phone.dial(), phone.dial()] == [MAIN_EN, MAIN_EN]
    assert phone.dial() == "END Too many requests. Please try again in a minute."
    ratelimit.reset(scope="ussd", identity=MSISDN)  # the minute's window closes
    assert phone.dial() == MAIN_EN
    ratelimit.reset(scope="ussd", identity=MSISDN)
    assert phone.dial() == (
        "END This phone has dialled many times this hour. Please try again later."
    )


def test_steps_a_session_are_a_setting(phone: Phone, settings: Any) -> None:
    settings.USSD_STEPS_PER_SESSION = 3
    speaks(phone, "en")
    phone.dial()
    assert phone.press("8").startswith("CON Choose a number from the menu.")
    assert phone.press("8").startswith("CON Choose a number from the menu.")
    assert phone.press("8") == "END Your session has ended. Please dial again."


def test_a_session_ends_after_more_steps_than_any_menu_needs(phone: Phone) -> None:
    speaks(phone, "en")
    phone.dial()
    for _step in range(MAX_STEPS - 1):
        assert phone.press("8").startswith("CON Choose a number from the menu.")

    assert phone.press("8") == "END Your session has ended. Please dial again."


def test_a_number_held_by_a_staff_account_cannot_open_a_citizen_account(
    phone: Phone, county: None, make_staff: Callable[..., User]
) -> None:
    staff = make_staff(["cashier"])
    User.objects.filter(pk=staff.pk).update(phone=MSISDN)
    speaks(phone, "en")
    phone.dial()
    for answer in ("5", "1", "Jane Wambui", "2", "3", "1"):
        phone.press(answer)

    assert phone.press("No water at Karau") == (
        "END This phone number cannot be used here. Visit a county office."
    )
    assert User.objects.filter(phone=MSISDN).get().pk == staff.pk
    assert Complaint.objects.count() == 0
    assert PrivacyConsent.objects.count() == 0
