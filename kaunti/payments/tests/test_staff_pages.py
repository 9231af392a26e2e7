"""The staff, counter and citizen payment pages: who may open each one (anonymous, citizen,
staff of another department or without the role, staff with the role), and what they do.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from kaunti.accounts.models import User
from kaunti.accounts.tests.factories import CitizenFactory
from kaunti.conftest import sign_in_staff
from kaunti.core.models import AuditEvent, Department
from kaunti.ledger.selectors import get_trial_balance
from kaunti.payments.models import (
    Bill,
    BillStatus,
    Payment,
    ReceiptCancellation,
    StkRequest,
    StkStatus,
    TillSession,
    TillStatus,
)
from kaunti.payments.services.bills import LineInput, Payer
from kaunti.payments.services.counter import new_form_token, open_till, receive_counter_payment
from kaunti.payments.tests.factories import BillFactory, PaymentFactory
from kaunti.simulators.daraja import DarajaSimulator, Outcome, Script, SimulatorConfig

pytestmark = pytest.mark.django_db

STAFF_SIGN_IN = "/staff/sign-in/"
CITIZEN_SIGN_IN = "/account/sign-in/"


def staff_client(user: User) -> Client:
    client = Client()
    sign_in_staff(client, user)
    return client


def citizen_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@dataclass
class World:
    """A trade bill owned by a citizen, partly paid in cash at a cashier's open till, and a
    payment in suspense."""

    citizen: User
    bill: Bill
    cashier: User
    till: TillSession
    payment: Payment
    suspense: Payment


@pytest.fixture
def world(make_bill: Callable[..., Bill], make_staff: Callable[..., User], citizen: User) -> World:
    bill = make_bill(
        Decimal("500.00"), payer=Payer(name="Wanjiku Kamau", phone="0712000111", user=citizen)
    )
    cashier = make_staff(["cashier"], department="revenue")
    till = open_till(
        cashier=cashier,
        department=Department.objects.get(code="revenue"),
        opening_float=Decimal("1000"),
    )
    payment = receive_counter_payment(
        till=till,
        bill_number=bill.number,
        amount=Decimal("200"),
        method="cash",
        reference="",
        idempotency_token=new_form_token(),
        actor=cashier,
    )
    suspense = PaymentFactory.create(
        bill_number="NOSUCHBIL",
        amount=Decimal("300"),
        external_ref="RKTQDM7W6S",
        payer_phone="254722000444",
        payer_name="Otieno Odhiambo",
    )
    return World(citizen, bill, cashier, till, payment, suspense)


def assert_staff_matrix(
    url: str, *, allowed: Client, denied: list[Client], citizen: User, allowed_status: int = 200
) -> None:
    """Anonymous: to the staff sign-in; a citizen and every `denied` client: 403."""
    anonymous = Client().get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(f"{STAFF_SIGN_IN}?next=")
    assert citizen_client(citizen).get(url).status_code == 403
    for client in denied:
        assert client.get(url).status_code == 403
    assert allowed.get(url).status_code == allowed_status


# --- Who may open which page ------------------------------------------------------------


def test_the_bill_list_needs_a_role_that_views_bills(
    world: World, make_staff: Callable[..., User]
) -> None:
    officer = staff_client(make_staff(["revenue_officer"], department="trade"))
    inspector = staff_client(make_staff(["inspector"], department="trade"))
    assert_staff_matrix("/staff/bills/", allowed=officer, denied=[inspector], citizen=world.citizen)


def test_a_bill_page_needs_the_role_in_the_bills_department(
    world: World, make_staff: Callable[..., User]
) -> None:
    url = f"/staff/bills/{world.bill.number}/"
    officer = staff_client(make_staff(["revenue_officer"], department="trade"))
    health_officer = staff_client(make_staff(["revenue_officer"], department="health"))
    inspector = staff_client(make_staff(["inspector"], department="trade"))
    assert_staff_matrix(
        url, allowed=officer, denied=[health_officer, inspector], citizen=world.citizen
    )
    assert officer.get("/staff/bills/NOSUCHBIL/").status_code == 404


def test_raising_a_bill_needs_the_revenue_officer_role(
    world: World, make_staff: Callable[..., User]
) -> None:
    officer = staff_client(make_staff(["revenue_officer"], department="trade"))
    cashier = staff_client(world.cashier)
    assert_staff_matrix(
        "/staff/bills/new/", allowed=officer, denied=[cashier], citizen=world.citizen
    )


def test_the_suspense_pages_need_the_review_role(
    world: World, make_staff: Callable[..., User]
) -> None:
    officer = staff_client(make_staff(["revenue_officer"], department="trade"))
    cashier = staff_client(world.cashier)
    for url in ("/staff/suspense/", f"/staff/suspense/{world.suspense.public_id}/"):
        assert_staff_matrix(url, allowed=officer, denied=[cashier], citizen=world.citizen)


def test_a_receipt_pdf_needs_the_role_in_the_bills_department_or_the_issuing_till(
    world: World, make_staff: Callable[..., User]
) -> None:
    url = f"/staff/receipts/{world.payment.receipt.number}.pdf"
    officer = staff_client(make_staff(["revenue_officer"], department="trade"))
    health_officer = staff_client(make_staff(["revenue_officer"], department="health"))
    other_cashier = staff_client(make_staff(["cashier"], department="revenue"))
    assert_staff_matrix(
        url, allowed=officer, denied=[health_officer, other_cashier], citizen=world.citizen
    )
    response = staff_client(world.cashier).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF-")


def test_the_counter_pages_need_the_cashier_role(
    world: World, make_staff: Callable[..., User]
) -> None:
    cashier = staff_client(world.cashier)
    officer = staff_client(make_staff(["revenue_officer"], department="revenue"))
    for url in (
        "/staff/counter/",
        "/staff/counter/receive/",
        f"/staff/counter/receive/?bill={world.bill.number}",
        "/staff/counter/close/",
        f"/staff/counter/tills/{world.till.public_id}/",
        f"/staff/counter/receipts/{world.payment.receipt.number}/",
    ):
        assert_staff_matrix(url, allowed=cashier, denied=[officer], citizen=world.citizen)


def test_a_cashier_sees_only_their_own_tills_and_receipts(
    world: World, make_staff: Callable[..., User]
) -> None:
    other = staff_client(make_staff(["cashier"], department="revenue"))
    assert other.get(f"/staff/counter/tills/{world.till.public_id}/").status_code == 404
    assert other.get(f"/staff/counter/receipts/{world.payment.receipt.number}/").status_code == 403


def test_cancelling_a_receipt_needs_a_supervisor_of_the_bills_department(
    world: World, make_staff: Callable[..., User]
) -> None:
    url = f"/staff/counter/cancel-receipt/?receipt={world.payment.receipt.number}"
    supervisor = staff_client(make_staff(["supervisor"], department="trade"))
    health_supervisor = staff_client(make_staff(["supervisor"], department="health"))
    cashier = staff_client(world.cashier)
    assert_staff_matrix(
        url, allowed=supervisor, denied=[health_supervisor, cashier], citizen=world.citizen
    )


def test_citizen_pages_need_a_signed_in_person_and_show_only_their_own_bills(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    stk = StkRequest.objects.create(bill=world.bill, phone="254712000111", amount=300)
    own = citizen_client(world.citizen)
    stranger = citizen_client(CitizenFactory.create(phone="254733000999", full_name="Njeri"))
    for url in (
        "/account/bills/",
        f"/account/bills/{world.bill.number}/pay/",
        f"/account/bills/{world.bill.number}/pay/{stk.public_id}/",
        f"/account/receipts/{world.payment.receipt.number}.pdf",
    ):
        anonymous = Client().get(url)
        assert anonymous.status_code == 302
        assert anonymous["Location"].startswith(f"{CITIZEN_SIGN_IN}?next=")
        assert own.get(url).status_code == 200
        if url != "/account/bills/":
            assert stranger.get(url).status_code == 404
    assert world.bill.number not in stranger.get("/account/bills/").content.decode()


# --- Bills ------------------------------------------------------------------------------


def test_the_bill_list_searches_by_number_phone_and_name_within_the_users_departments(
    world: World, make_bill: Callable[..., Bill], make_staff: Callable[..., User]
) -> None:
    other = make_bill(Decimal("100.00"), payer=Payer(name="Kamau Mwangi", phone="0722000333"))
    health_bill = BillFactory.create(
        payer=Payer(name="Kamau Mwangi", phone="0722000333"),
        lines=[LineInput("food-handler")],
        department=Department.objects.get(code="health"),
        due_on=timezone.localdate(),
        description="Medical certificate",
    )
    officer = staff_client(make_staff(["revenue_officer"], department="trade"))

    def listed(query: str) -> set[str]:
        html = officer.get("/staff/bills/", {"q": query} if query else {}).content.decode()
        return set(re.findall(r"/staff/bills/([A-Z0-9]{9})/", html))

    assert listed("") == {world.bill.number, other.number}
    assert listed(world.bill.number.lower()) == {world.bill.number}
    assert listed("+254 722 000 333") == {other.number}
    assert listed("kamau mw") == {other.number}
    assert health_bill.number not in listed("Kamau")
    html = officer.get("/staff/bills/", {"status": BillStatus.PARTLY_PAID}).content.decode()
    assert set(re.findall(r"/staff/bills/([A-Z0-9]{9})/", html)) == {world.bill.number}


def test_the_bill_page_shows_lines_payments_receipts_and_history(
    world: World, make_staff: Callable[..., User]
) -> None:
    supervisor = staff_client(make_staff(["supervisor"], department="trade"))
    html = supervisor.get(f"/staff/bills/{world.bill.number}/").content.decode()
    receipt = world.payment.receipt.number
    assert "Market entry fee" in html
    assert f"/staff/receipts/{receipt}.pdf" in html
    assert f"/staff/counter/cancel-receipt/?receipt={receipt}" in html
    assert "payments.bill_raised" in html
    assert "payments.payment_recorded" in html
    assert "KES 300.00" in html  # the balance


def test_raising_a_miscellaneous_bill_from_the_price_list(
    make_staff: Callable[..., User], price_list: None
) -> None:
    user = make_staff(["revenue_officer"], department="trade")
    officer = staff_client(user)
    response = officer.post(
        "/staff/bills/new/",
        {
            "payer_name": "Achieng  Otieno",
            "payer_phone": "0711 222 333",
            "payer_id_number": "",
            "ward": "",
            "stream_1": "market-fee",
            "quantity_1": "3",
            "price_1": "",
            "stream_2": "hawker-permit",
            "quantity_2": "",
            "price_2": "",
            "stream_3": "",
            "quantity_3": "",
            "price_3": "",
        },
    )
    bill = Bill.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/staff/bills/{bill.number}/"
    assert bill.payer_name == "Achieng Otieno"
    assert bill.payer_phone == "254711222333"
    assert bill.department.code == "trade"
    assert bill.total == Decimal("180.00")
    assert bill.due_on == timezone.localdate() + timedelta(days=14)
    assert bill.created_by == user
    assert [(line.stream.code, line.quantity, line.amount) for line in bill.lines.all()] == [
        ("market-fee", Decimal("3.00"), Decimal("150.00")),
        ("hawker-permit", Decimal("1.00"), Decimal("30.00")),
    ]
    assert AuditEvent.objects.filter(action="payments.bill_raised", actor=user).count() == 1
    assert get_trial_balance().is_balanced


def test_an_unpriced_item_takes_the_price_the_officer_types(
    make_staff: Callable[..., User], price_list: None
) -> None:
    officer = staff_client(make_staff(["revenue_officer"], department="public-works"))
    response = officer.post(
        "/staff/bills/new/",
        {"payer_name": "Tenant", "stream_1": "house-rent", "quantity_1": "2", "price_1": "4500"},
    )
    assert response.status_code == 302
    assert Bill.objects.get().total == Decimal("9000.00")


def test_a_rejected_bill_form_keeps_what_was_typed_and_creates_nothing(
    make_staff: Callable[..., User], price_list: None
) -> None:
    officer = staff_client(make_staff(["revenue_officer"], department="trade"))
    response = officer.post(
        "/staff/bills/new/",
        {
            "payer_name": "",
            "payer_phone": "0711 222 333",
            "stream_1": "market-fee",
            "quantity_1": "3",
            "price_1": "75",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in html
    assert "Enter the payer&#x27;s name." in html
    assert 'value="0711 222 333"' in html
    assert '<option value="market-fee" selected>' in html
    assert 'value="75"' in html
    assert not Bill.objects.exists()


def test_a_price_typed_for_a_priced_item_is_refused(
    make_staff: Callable[..., User], price_list: None
) -> None:
    officer = staff_client(make_staff(["revenue_officer"], department="trade"))
    response = officer.post(
        "/staff/bills/new/",
        {"payer_name": "Achieng", "stream_1": "market-fee", "quantity_1": "1", "price_1": "10"},
    )
    assert response.status_code == 200
    assert "leave its price empty" in response.content.decode()
    assert not Bill.objects.exists()


def test_an_officer_cannot_bill_another_departments_items(
    make_staff: Callable[..., User], price_list: None
) -> None:
    officer = staff_client(make_staff(["revenue_officer"], department="trade"))
    page = officer.get("/staff/bills/new/").content.decode()
    assert 'value="market-fee"' in page
    assert 'value="machinery-hire"' not in page
    response = officer.post(
        "/staff/bills/new/",
        {"payer_name": "Achieng", "stream_1": "machinery-hire", "quantity_1": "1"},
    )
    assert response.status_code == 200
    assert not Bill.objects.exists()


# --- Suspense ---------------------------------------------------------------------------


def test_an_officer_assigns_a_payment_in_suspense_to_its_bill(
    world: World, make_staff: Callable[..., User]
) -> None:
    officer = staff_client(make_staff(["revenue_officer"], department="trade"))
    queue = officer.get("/staff/suspense/").content.decode()
    assert "NOSUCHBIL" in queue
    assert "Otieno Odhiambo" in queue
    response = officer.post(
        f"/staff/suspense/{world.suspense.public_id}/", {"bill_number": world.bill.number.lower()}
    )
    assert response.status_code == 302
    assert response["Location"] == "/staff/suspense/"
    world.bill.refresh_from_db()
    world.suspense.refresh_from_db()
    assert world.bill.status == BillStatus.PAID
    assert world.bill.paid == Decimal("500.00")
    assert not world.suspense.is_in_suspense
    assert "NOSUCHBIL" not in officer.get("/staff/suspense/").content.decode()


def test_a_payment_cannot_be_assigned_to_a_bill_of_another_department(
    world: World, make_staff: Callable[..., User]
) -> None:
    officer = staff_client(make_staff(["revenue_officer"], department="health"))
    response = officer.post(
        f"/staff/suspense/{world.suspense.public_id}/", {"bill_number": world.bill.number}
    )
    assert response.status_code == 200
    assert "You cannot assign payments to bills of that department." in response.content.decode()
    world.suspense.refresh_from_db()
    world.bill.refresh_from_db()
    assert world.suspense.is_in_suspense
    assert world.bill.paid == Decimal("200.00")


# --- Counter ----------------------------------------------------------------------------


def _form_token(html: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def test_a_cashier_opens_a_till_takes_a_payment_once_and_closes_with_a_shortage(
    make_bill: Callable[..., Bill], make_staff: Callable[..., User]
) -> None:
    bill = make_bill(Decimal("500.00"))
    user = make_staff(["cashier"], department="revenue")
    cashier = staff_client(user)
    assert "Open your till" in cashier.get("/staff/counter/").content.decode()
    opened = cashier.post(
        "/staff/counter/",
        {"department": Department.objects.get(code="revenue").pk, "opening_float": "1000"},
    )
    assert opened.status_code == 302
    till = TillSession.objects.get(cashier=user)

    page = cashier.get("/staff/counter/receive/", {"bill": bill.number.lower()}).content.decode()
    assert "Wanjiru Njoroge" in page
    form = {
        "token": _form_token(page),
        "amount": "500",
        "method": "cash",
        "bank": "",
        "reference": "",
    }
    url = f"/staff/counter/receive/?bill={bill.number}"
    first = cashier.post(url, form)
    second = cashier.post(url, form)  # the same form submitted again
    payment = Payment.objects.get()
    assert first.status_code == second.status_code == 302
    assert (
        first["Location"]
        == second["Location"]
        == f"/staff/counter/receipts/{payment.receipt.number}/"
    )
    assert payment.till_session == till
    assert "Receipt issued" in cashier.get(first["Location"]).content.decode()

    closed = cashier.post("/staff/counter/close/", {"counted_cash": "1450"})
    assert closed.status_code == 302
    assert closed["Location"] == f"/staff/counter/tills/{till.public_id}/"
    till.refresh_from_db()
    assert till.status == TillStatus.CLOSED
    assert till.variance == Decimal("-50.00")
    summary = cashier.get(closed["Location"]).content.decode()
    assert "Short by KES 50.00" in summary
    assert "KES 1,500.00" in summary  # expected


def test_the_receive_form_refuses_an_unknown_bill(
    world: World,
) -> None:
    cashier = staff_client(world.cashier)
    response = cashier.get("/staff/counter/receive/", {"bill": "NOSUCHBIL"})
    assert response.status_code == 200
    assert "No open bill has that number" in response.content.decode()


def test_a_bank_slip_used_twice_is_refused_on_the_form(
    world: World, make_bill: Callable[..., Bill]
) -> None:
    other = make_bill(Decimal("400.00"))
    cashier = staff_client(world.cashier)
    form = {"amount": "300", "method": "bank", "bank": "kcb", "reference": "998877"}
    first = cashier.post(
        f"/staff/counter/receive/?bill={world.bill.number}", {**form, "token": new_form_token()}
    )
    assert first.status_code == 302
    count = Payment.objects.count()
    again = cashier.post(
        f"/staff/counter/receive/?bill={other.number}", {**form, "token": new_form_token()}
    )
    assert again.status_code == 200
    assert "This slip or cheque was already receipted" in again.content.decode()
    assert Payment.objects.count() == count
    other.refresh_from_db()
    assert other.paid == Decimal("0.00")


def test_a_supervisor_cancels_a_receipt_naming_who_asked(
    world: World, make_staff: Callable[..., User]
) -> None:
    user = make_staff(["supervisor"], department="trade")
    supervisor = staff_client(user)
    number = world.payment.receipt.number
    url = f"/staff/counter/cancel-receipt/?receipt={number}"
    page = supervisor.get(url).content.decode()
    assert f'value="{world.cashier.username}"' in page  # the issuing cashier, pre-filled

    own = supervisor.post(url, {"reason": "Wrong bill", "requested_by": user.username})
    assert own.status_code == 200
    assert "You cannot approve your own request" in own.content.decode()
    assert not ReceiptCancellation.objects.exists()

    done = supervisor.post(url, {"reason": "Wrong bill", "requested_by": world.cashier.username})
    assert done.status_code == 302
    cancellation = ReceiptCancellation.objects.get()
    assert (cancellation.requested_by, cancellation.approved_by) == (world.cashier, user)
    world.bill.refresh_from_db()
    assert world.bill.status == BillStatus.OPEN
    assert "Cancelled" in supervisor.get(url).content.decode()


def test_a_suspense_receipt_cannot_be_cancelled_and_the_page_says_why(
    world: World, make_staff: Callable[..., User]
) -> None:
    supervisor = staff_client(make_staff(["supervisor"], department="trade"))
    url = f"/staff/counter/cancel-receipt/?receipt={world.suspense.receipt.number}"
    response = supervisor.post(url, {"reason": "Unknown", "requested_by": world.cashier.username})
    assert response.status_code == 200
    assert "Assign it to the right bill from the suspense queue" in response.content.decode()
    assert not ReceiptCancellation.objects.exists()


# --- Citizens ---------------------------------------------------------------------------


def test_my_bills_lists_the_citizens_bills_with_balance_and_receipts(world: World) -> None:
    html = citizen_client(world.citizen).get("/account/bills/").content.decode()
    assert world.bill.number in html
    assert "KES 300.00" in html
    assert f"/account/receipts/{world.payment.receipt.number}.pdf" in html
    assert f"/account/bills/{world.bill.number}/pay/" in html


def test_paying_with_mpesa_records_one_prompt_request_per_form(world: World) -> None:
    client = citizen_client(world.citizen)
    page = client.get(f"/account/bills/{world.bill.number}/pay/").content.decode()
    assert 'value="0712000111"' in page  # their own phone, pre-filled
    form = {"token": _form_token(page), "phone": "0712 000 111"}
    first = client.post(f"/account/bills/{world.bill.number}/pay/", form)
    second = client.post(f"/account/bills/{world.bill.number}/pay/", form)
    stk = StkRequest.objects.get()
    assert (
        first["Location"]
        == second["Location"]
        == (f"/account/bills/{world.bill.number}/pay/{stk.public_id}/")
    )
    assert (stk.bill, stk.phone, stk.amount, stk.status) == (
        world.bill,
        "254712000111",
        300,
        StkStatus.REQUESTED,
    )
    assert stk.initiated_by == world.citizen
    status = client.get(first["Location"]).content.decode()
    assert "Check your phone and enter your M-Pesa PIN" in status
    assert 'hx-trigger="every 3s"' in status
    fragment = client.get(first["Location"], headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<div id="stk-status"')


def test_a_prompt_held_for_review_says_so_and_stops_asking(world: World) -> None:
    client = citizen_client(world.citizen)
    page = client.get(f"/account/bills/{world.bill.number}/pay/").content.decode()
    sent = client.post(
        f"/account/bills/{world.bill.number}/pay/",
        {"token": _form_token(page), "phone": "0712 000 111"},
    )
    StkRequest.objects.update(status=StkStatus.REVIEW)

    status = client.get(sent["Location"]).content.decode()

    assert "We are checking this payment" in status
    assert "Do not pay again for now." in status
    assert "No money was taken" not in status
    assert 'hx-trigger="every 3s"' not in status


@pytest.fixture
def daraja(settings: Any) -> Iterator[DarajaSimulator]:
    """The local Daraja; prompts wait for a person on its phone page, so no callback comes."""
    simulator = DarajaSimulator(SimulatorConfig(script=Script(outcome=Outcome.PHONE))).start()
    settings.MPESA_BASE_URL = simulator.base_url
    settings.MPESA_CONSUMER_KEY = simulator.config.consumer_key
    settings.MPESA_CONSUMER_SECRET = simulator.config.consumer_secret
    settings.MPESA_SHORTCODE = simulator.config.shortcode
    settings.MPESA_PASSKEY = simulator.config.passkey
    yield simulator
    simulator.stop()


def test_paying_with_mpesa_sends_the_prompt_to_the_phone(
    world: World, daraja: DarajaSimulator, django_capture_on_commit_callbacks: Any
) -> None:
    assert django_settings.CELERY_TASK_ALWAYS_EAGER
    client = citizen_client(world.citizen)
    page = client.get(f"/account/bills/{world.bill.number}/pay/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/account/bills/{world.bill.number}/pay/",
            {"token": _form_token(page), "phone": "0712000111"},
        )
    stk = StkRequest.objects.get()
    assert stk.status == StkStatus.PENDING
    assert stk.checkout_request_id
    push = daraja.push(stk.checkout_request_id)
    assert push is not None
    assert daraja.request_count("/mpesa/stkpush/v1/processrequest") == 1
    status = client.get(response["Location"]).content.decode()
    assert "Check your phone and enter your M-Pesa PIN" in status


def test_a_paid_bill_offers_no_payment(world: World, make_staff: Callable[..., User]) -> None:
    receive_counter_payment(
        till=world.till,
        bill_number=world.bill.number,
        amount=Decimal("300"),
        method="cash",
        reference="",
        idempotency_token=new_form_token(),
        actor=world.cashier,
    )
    client = citizen_client(world.citizen)
    response = client.get(f"/account/bills/{world.bill.number}/pay/")
    assert response.status_code == 302
    assert response["Location"] == "/account/bills/"
    assert not StkRequest.objects.exists()
