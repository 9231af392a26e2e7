"""The payments and ledger HTTP API: who may do what, what each answer says, idempotency.

The permission matrix of every endpoint: anonymous (401 problem), a citizen (their own
bills only; refused where staff-only), staff of another department, staff with the role.
Every refusal also checks that nothing changed.
"""

import json
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from kaunti.accounts.models import Role, User
from kaunti.accounts.services import issue_api_token
from kaunti.accounts.tests.factories import CitizenFactory
from kaunti.conftest import sign_in_staff
from kaunti.core.models import Department
from kaunti.ledger.models import JournalEntry
from kaunti.payments.models import Bill, BillStatus, Payment, Receipt, StkRequest
from kaunti.payments.services.bills import Payer
from kaunti.payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
BILLS = "/api/v1/bills/"
STK = "/api/v1/payments/stk/"
TRIAL_BALANCE = "/api/v1/ledger/trial-balance/"
REVENUE = "/api/v1/reports/revenue/"
MakeStaff = Callable[..., User]
MakeBill = Callable[..., Bill]


def token_client(user: User) -> Client:
    return Client(headers={"Authorization": f"Token {issue_api_token(user=user)}"})


def citizen_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def unauthorised(path: str) -> dict[str, Any]:
    return {
        "type": "about:blank",
        "title": "Unauthorized",
        "status": 401,
        "detail": "Authentication credentials were not provided.",
        "instance": path,
    }


def forbidden(
    path: str, detail: str | None = "You do not have permission to perform this action."
) -> dict[str, Any]:
    """403; `detail` None where a selector refused (a Django PermissionDenied has none)."""
    problem = {"type": "about:blank", "title": "Forbidden", "status": 403, "instance": path}
    return problem if detail is None else {**problem, "detail": detail}


def not_found(path: str, detail: str) -> dict[str, Any]:
    return {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": detail,
        "instance": path,
    }


def assert_problem(response: Any, expected: dict[str, Any]) -> None:
    assert response["Content-Type"] == PROBLEM
    assert response.status_code == expected["status"]
    assert response.json() == expected


def money_counts() -> tuple[int, int, int, int]:
    return (
        Bill.objects.count(),
        JournalEntry.objects.count(),
        Payment.objects.count(),
        StkRequest.objects.count(),
    )


@pytest.fixture
def other_citizen(db: None) -> User:
    return CitizenFactory.create(phone="254722000999", full_name="Otieno Odhiambo")


@pytest.fixture
def citizen_bill(make_bill: MakeBill, citizen: User) -> Bill:
    """A trade (market fees) bill of KES 1,500 raised in the citizen's name."""
    return make_bill(
        Decimal("1500.00"), payer=Payer(name="Wanjiku Kamau", phone="0712000111", user=citizen)
    )


@pytest.fixture
def trade_auditor(make_staff: MakeStaff) -> User:
    return make_staff([Role.AUDITOR], department="trade")


def pay(bill: Bill, amount: str, reference: str = "SKL4TQ8ZPA") -> Payment:
    """The citizen pays `amount` of `bill` by M-Pesa."""
    return PaymentFactory.create(
        bill=bill, amount=Decimal(amount), external_ref=reference, payer_name="Wanjiku Kamau"
    )


# --- Raising a bill -----------------------------------------------------------------------


def bill_request(department: str = "trade") -> dict[str, Any]:
    return {
        "payer": {"name": "Kamau  Mwangi", "phone": "0722 000 333", "id_number": "11223344"},
        "department": department,
        "ward": "0441",
        "due_on": (date.today() + timedelta(days=14)).isoformat(),
        "description": "Market fees, March",
        "lines": [
            {"stream": "market-fee", "quantity": "3"},
            {"stream": "weights-measures", "quantity": "1", "unit_price": "450.50"},
        ],
    }


def post_json(client: Client, path: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(path, json.dumps(body), content_type="application/json", headers=headers)


def test_a_revenue_officer_of_the_department_raises_a_bill(
    make_staff: MakeStaff, price_list: None
) -> None:
    officer = make_staff([Role.REVENUE_OFFICER], department="trade")

    response = post_json(token_client(officer), BILLS, bill_request())

    assert response.status_code == 201
    bill = Bill.objects.get()
    assert response["Location"] == f"http://testserver/api/v1/bills/{bill.number}/"
    body = response.json()
    assert body == {
        "number": bill.number,
        "payer": {
            "name": "Kamau Mwangi",
            "phone": "254722000333",
            "id_number": "11223344",
            "kra_pin": "",
        },
        "department": "trade",
        "ward": "0441",
        "description": "Market fees, March",
        "due_on": (date.today() + timedelta(days=14)).isoformat(),
        "status": "open",
        "total": "600.50",
        "paid": "0.00",
        "balance": "600.50",
        "created_at": body["created_at"],
        "lines": [
            {
                "stream": "market-fee",
                "description": "Market entry fee",
                "quantity": "3.00",
                "unit_price": "50.00",
                "amount": "150.00",
            },
            {
                "stream": "weights-measures",
                "description": "Weights and measures",
                "quantity": "1.00",
                "unit_price": "450.50",
                "amount": "450.50",
            },
        ],
        "payments": [],
        "allocations": [],
        "history": [
            {
                "at": body["history"][0]["at"],
                "action": "payments.bill_raised",
                "data": {"number": bill.number, "total": "600.50", "source": ["", ""]},
            }
        ],
    }
    assert bill.created_by == officer
    assert bill.department.code == "trade"


@pytest.mark.parametrize(
    ("roles", "department"),
    [
        ([Role.CASHIER], "revenue"),  # may take money, not raise bills
        ([Role.REVENUE_OFFICER], "revenue"),  # raises bills, but not for trade
        ([Role.AUDITOR], "trade"),  # reads trade's bills only
    ],
)
def test_staff_without_raise_bill_in_trade_are_refused(
    make_staff: MakeStaff, price_list: None, roles: list[str], department: str
) -> None:
    user = make_staff(roles, department=department)
    before = money_counts()

    response = post_json(token_client(user), BILLS, bill_request("trade"))

    detail = (
        "You may not raise bills for this department."
        if Role.REVENUE_OFFICER in roles
        else "You do not have permission to perform this action."
    )
    assert_problem(response, forbidden(BILLS, detail))
    assert money_counts() == before


def test_a_citizen_cannot_raise_a_bill(citizen: User, price_list: None) -> None:
    response = post_json(citizen_client(citizen), BILLS, bill_request())

    assert_problem(response, forbidden(BILLS))
    assert money_counts() == (0, 0, 0, 0)


def test_anonymous_callers_cannot_raise_a_bill(client: Client, price_list: None) -> None:
    response = post_json(client, BILLS, bill_request())

    assert_problem(response, unauthorised(BILLS))
    assert response["WWW-Authenticate"] == "Token"
    assert money_counts() == (0, 0, 0, 0)


def test_a_session_without_the_second_factor_cannot_raise_a_bill(
    make_staff: MakeStaff, price_list: None
) -> None:
    officer = make_staff([Role.REVENUE_OFFICER], department="trade")
    client = Client()
    client.force_login(officer)  # password only: django-otp has not verified this session

    response = post_json(client, BILLS, bill_request())

    assert_problem(
        response, forbidden(BILLS, "Staff must sign in with their second factor to use the API.")
    )
    assert money_counts() == (0, 0, 0, 0)


def test_a_session_with_the_second_factor_raises_a_bill(
    make_staff: MakeStaff, price_list: None
) -> None:
    officer = make_staff([Role.REVENUE_OFFICER], department="trade")
    client = Client()
    sign_in_staff(client, officer)
    client.handler.enforce_csrf_checks = True

    refused = post_json(client, BILLS, bill_request())
    response = post_json(
        client, BILLS, bill_request(), X_CSRFToken=client.cookies["csrftoken"].value
    )

    # A session is a cookie: without the CSRF token DRF refuses it, with it the bill is raised.
    assert refused.status_code == 403
    assert response.status_code == 201
    assert Bill.objects.count() == 1


def test_a_bill_for_an_unknown_stream_is_a_400_listing_the_reason(
    make_staff: MakeStaff, price_list: None
) -> None:
    officer = make_staff([Role.REVENUE_OFFICER], department="trade")
    body = bill_request()
    body["lines"] = [{"stream": "unicorn-fee", "quantity": "1", "unit_price": "10"}]

    response = post_json(token_client(officer), BILLS, body)

    assert_problem(
        response,
        {
            "type": "about:blank",
            "title": "Bad Request",
            "status": 400,
            "instance": BILLS,
            "detail": "The request has invalid fields.",
            "errors": {"non_field_errors": ["Unknown revenue stream: unicorn-fee"]},
        },
    )
    assert money_counts() == (0, 0, 0, 0)


def test_a_bill_with_missing_fields_is_a_400_naming_them(
    make_staff: MakeStaff, price_list: None
) -> None:
    officer = make_staff([Role.REVENUE_OFFICER], department="trade")

    response = post_json(token_client(officer), BILLS, {"payer": {}, "lines": []})

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert response.json()["errors"] == {
        "payer": {"name": ["This field is required."]},
        "department": ["This field is required."],
        "due_on": ["This field is required."],
        "description": ["This field is required."],
        "lines": ["This list may not be empty."],
    }
    assert money_counts() == (0, 0, 0, 0)


# --- Listing and reading bills --------------------------------------------------------------


def test_anonymous_callers_are_asked_to_authenticate_everywhere(
    client: Client, citizen_bill: Bill
) -> None:
    paths = [
        BILLS,
        f"{BILLS}{citizen_bill.number}/",
        "/api/v1/receipts/RCT2627-000001/",
        f"{STK}00000000-0000-0000-0000-000000000000/",
        TRIAL_BALANCE,
        f"{REVENUE}?from=2026-07-01&to=2026-07-31",
    ]
    for path in paths:
        response = client.get(path)
        assert_problem(response, unauthorised(path.split("?")[0]))


def test_a_citizen_lists_only_their_own_bills(
    make_bill: MakeBill, citizen: User, other_citizen: User, citizen_bill: Bill
) -> None:
    make_bill(Decimal("700.00"), payer=Payer(name="Otieno", phone="0722000999", user=other_citizen))
    make_bill(Decimal("300.00"))  # a walk-in payer with no account

    response = citizen_client(citizen).get(BILLS)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["next"] is None
    assert body["results"] == [
        {
            "number": citizen_bill.number,
            "payer_name": "Wanjiku Kamau",
            "department": "trade",
            "ward": None,
            "description": "Market fees",
            "due_on": citizen_bill.due_on.isoformat(),
            "status": "open",
            "total": "1500.00",
            "paid": "0.00",
            "balance": "1500.00",
            "created_at": body["results"][0]["created_at"],
            "url": f"http://testserver/api/v1/bills/{citizen_bill.number}/",
        }
    ]


def test_staff_list_the_bills_of_their_department_filtered(
    make_bill: MakeBill, trade_auditor: User, make_staff: MakeStaff
) -> None:
    first = make_bill(Decimal("100.00"), payer=Payer(name="Achieng Ouma", phone="0733000444"))
    second = make_bill(Decimal("200.00"), payer=Payer(name="Kiprono Langat", phone="0744000555"))
    pay(second, "200.00")
    client = token_client(trade_auditor)

    def numbers(query: str) -> list[str]:
        response = client.get(f"{BILLS}{query}")
        assert response.status_code == 200, response.content
        return [row["number"] for row in response.json()["results"]]

    assert numbers("") == [second.number, first.number]
    assert numbers("?status=paid") == [second.number]
    assert numbers("?status=open") == [first.number]
    assert numbers(f"?number={first.number.lower()}") == [first.number]
    assert numbers("?phone=+254 733 000 444") == [first.number]
    assert numbers("?phone=0700000000") == []
    health_officer = make_staff([Role.REVENUE_OFFICER], department="health")
    assert token_client(health_officer).get(BILLS).json()["count"] == 0


def test_a_bad_filter_is_a_400_problem(trade_auditor: User) -> None:
    response = token_client(trade_auditor).get(f"{BILLS}?status=lost&phone=12")

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert response.json()["errors"] == {"status": ['"lost" is not a valid choice.']}


def test_staff_without_view_bills_cannot_list_bills(
    make_staff: MakeStaff, citizen_bill: Bill
) -> None:
    inspector = make_staff([Role.INSPECTOR], department="trade")

    response = token_client(inspector).get(BILLS)

    assert_problem(response, forbidden(BILLS))


def test_a_bill_shows_its_payments_allocations_and_history(
    citizen: User, citizen_bill: Bill
) -> None:
    payment = pay(citizen_bill, "600.00")
    receipt = Receipt.objects.get(payment=payment)
    path = f"{BILLS}{citizen_bill.number}/"

    response = citizen_client(citizen).get(path)

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["total"], body["paid"], body["balance"]) == (
        "partly_paid",
        "1500.00",
        "600.00",
        "900.00",
    )
    assert body["payments"] == [
        {
            "id": str(payment.public_id),
            "channel": "mpesa_paybill",
            "amount": "600.00",
            "paid_at": body["payments"][0]["paid_at"],
            "reference": "SKL4TQ8ZPA",
            "mpesa_receipt": "SKL4TQ8ZPA",
            "receipt": receipt.number,
            "is_cancelled": False,
        }
    ]
    assert body["allocations"] == [
        {
            "amount": "600.00",
            "from_credit": False,
            "payment": str(payment.public_id),
            "created_at": body["allocations"][0]["created_at"],
        }
    ]
    assert [event["action"] for event in body["history"]] == [
        "payments.bill_raised",
        "payments.payment_recorded",
    ]
    assert body["history"][1]["data"]["receipt"] == receipt.number


def test_another_citizens_bill_is_not_found(other_citizen: User, citizen_bill: Bill) -> None:
    path = f"{BILLS}{citizen_bill.number}/"

    response = citizen_client(other_citizen).get(path)

    assert_problem(response, not_found(path, "There is no bill with this number."))


def test_staff_of_another_department_are_refused_a_bill(
    make_staff: MakeStaff, citizen_bill: Bill, trade_auditor: User
) -> None:
    path = f"{BILLS}{citizen_bill.number}/"
    health_officer = make_staff([Role.REVENUE_OFFICER], department="health")

    refused = token_client(health_officer).get(path)
    allowed = token_client(trade_auditor).get(path)

    assert_problem(refused, forbidden(path, detail=None))
    assert allowed.status_code == 200
    assert allowed.json()["number"] == citizen_bill.number


def test_an_unknown_bill_is_not_found(trade_auditor: User, price_list: None) -> None:
    path = f"{BILLS}ACDEFGHJK/"

    response = token_client(trade_auditor).get(path)

    assert_problem(response, not_found(path, "There is no bill with this number."))


# --- M-Pesa prompts -------------------------------------------------------------------------


def push(client: Client, bill: Bill, key: str | None = "pay-1", **body: Any) -> Any:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return post_json(
        client, STK, {"bill_number": bill.number, "phone": "0712 000 111", **body}, **headers
    )


def test_a_citizen_prompts_their_phone_to_pay_their_bill(citizen: User, citizen_bill: Bill) -> None:
    response = push(citizen_client(citizen), citizen_bill, amount="500")

    assert response.status_code == 202
    stk = StkRequest.objects.get()
    status_url = f"http://testserver/api/v1/payments/stk/{stk.public_id}/"
    assert response["Location"] == status_url
    assert response.json() == {
        "id": str(stk.public_id),
        "status": "requested",
        "status_url": status_url,
        "bill_number": citizen_bill.number,
        "phone": "254712000111",
        "amount": 500,
        "result_code": "",
        "result_desc": "",
        "receipt": None,
        "created_at": response.json()["created_at"],
        "resolved_at": None,
    }
    assert (stk.initiated_by, stk.channel, stk.bill) == (citizen, "api", citizen_bill)


def test_the_same_idempotency_key_returns_the_same_request(
    citizen: User, citizen_bill: Bill
) -> None:
    client = citizen_client(citizen)

    first = push(client, citizen_bill, key="3f1c7a52-pay")
    again = push(client, citizen_bill, key="3f1c7a52-pay")

    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json() == first.json()
    assert StkRequest.objects.count() == 1


def test_a_key_reused_for_another_bill_is_a_409(
    make_bill: MakeBill, citizen: User, citizen_bill: Bill
) -> None:
    second = make_bill(Decimal("80.00"), payer=Payer(name="Wanjiku Kamau", user=citizen))
    client = citizen_client(citizen)
    push(client, citizen_bill, key="reused")

    response = push(client, second, key="reused")

    assert_problem(
        response,
        {
            "type": "about:blank",
            "title": "Conflict",
            "status": 409,
            "detail": "This Idempotency-Key was already used for another bill.",
        },
    )
    assert list(StkRequest.objects.values_list("bill__number", flat=True)) == [citizen_bill.number]


def test_keys_belong_to_their_caller(
    make_staff: MakeStaff, citizen: User, citizen_bill: Bill
) -> None:
    cashier = make_staff([Role.CASHIER], department="revenue")
    push(citizen_client(citizen), citizen_bill, key="same-key")

    response = push(token_client(cashier), citizen_bill, key="same-key")

    assert response.status_code == 202
    assert StkRequest.objects.count() == 2


@pytest.mark.parametrize("key", [None, "", "a key with spaces", "k" * 65])
def test_a_prompt_needs_a_usable_idempotency_key(
    citizen: User, citizen_bill: Bill, key: str | None
) -> None:
    before = money_counts()

    response = push(citizen_client(citizen), citizen_bill, key=key)

    assert_problem(
        response,
        {
            "type": "about:blank",
            "title": "Bad Request",
            "status": 400,
            "detail": "Send an Idempotency-Key header of 1 to 64 visible characters.",
        },
    )
    assert money_counts() == before


def test_a_citizen_cannot_prompt_for_another_citizens_bill(
    other_citizen: User, citizen_bill: Bill
) -> None:
    before = money_counts()

    response = push(citizen_client(other_citizen), citizen_bill)

    assert_problem(response, not_found(STK, "There is no bill with this number."))
    assert money_counts() == before


def test_a_prompt_for_more_than_the_balance_is_a_400(citizen: User, citizen_bill: Bill) -> None:
    before = money_counts()

    response = push(citizen_client(citizen), citizen_bill, amount="1500.01")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "non_field_errors": ["Pay between KES 1 and the balance of KES 1,500.00."]
    }
    assert money_counts() == before


def test_a_cashier_of_any_department_may_prompt_for_a_bill(
    make_staff: MakeStaff, citizen_bill: Bill
) -> None:
    cashier = make_staff([Role.CASHIER], department="revenue")

    response = push(token_client(cashier), citizen_bill)

    assert response.status_code == 202
    assert StkRequest.objects.get().amount == 1500


@pytest.mark.parametrize(
    ("roles", "department", "status"),
    [
        ([Role.AUDITOR], "trade", 403),  # reads bills, takes no money
        ([Role.REVENUE_OFFICER], "health", 403),  # raises bills, but not trade's
    ],
)
def test_staff_who_may_not_take_money_for_the_bill_are_refused(
    make_staff: MakeStaff, citizen_bill: Bill, roles: list[str], department: str, status: int
) -> None:
    user = make_staff(roles, department=department)
    before = money_counts()

    response = push(token_client(user), citizen_bill)

    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    assert money_counts() == before


def test_anonymous_callers_cannot_prompt(client: Client, citizen_bill: Bill) -> None:
    before = money_counts()

    response = push(client, citizen_bill)

    assert_problem(response, unauthorised(STK))
    assert money_counts() == before


def test_a_prompts_status_is_shown_to_its_payer_and_hidden_from_others(
    citizen: User, other_citizen: User, citizen_bill: Bill, trade_auditor: User
) -> None:
    created = push(citizen_client(citizen), citizen_bill).json()
    path = f"{STK}{created['id']}/"

    mine = citizen_client(citizen).get(path)
    staff = token_client(trade_auditor).get(path)
    theirs = citizen_client(other_citizen).get(path)

    assert mine.status_code == 200
    assert mine.json() == created
    assert staff.json() == created
    assert_problem(theirs, not_found(path, "There is no payment request with this id."))


# --- Receipts -------------------------------------------------------------------------------


def test_a_receipt_shows_its_payment_and_bill_to_its_payer_and_to_staff(
    citizen: User, citizen_bill: Bill, trade_auditor: User
) -> None:
    payment = pay(citizen_bill, "1500.00")
    receipt = Receipt.objects.get(payment=payment)
    path = f"/api/v1/receipts/{receipt.number}/"

    response = citizen_client(citizen).get(path)
    staff = token_client(trade_auditor).get(path.lower())

    assert response.status_code == 200
    assert response.json() == {
        "number": receipt.number,
        "financial_year": receipt.financial_year,
        "issued_at": response.json()["issued_at"],
        "verification_code": receipt.verification_code,
        "verification_url": f"http://testserver/verify/{receipt.verification_code}",
        "is_cancelled": False,
        "payment": {
            "id": str(payment.public_id),
            "channel": "mpesa_paybill",
            "amount": "1500.00",
            "paid_at": response.json()["payment"]["paid_at"],
            "reference": "SKL4TQ8ZPA",
            "mpesa_receipt": "SKL4TQ8ZPA",
            "payer_name": "Wanjiku Kamau",
            "is_in_suspense": False,
        },
        "bill": {
            "number": citizen_bill.number,
            "payer_name": "Wanjiku Kamau",
            "description": "Market fees",
            "status": "paid",
            "total": "1500.00",
            "paid": "1500.00",
            "balance": "0.00",
        },
    }
    assert staff.status_code == 200
    assert staff.json()["number"] == receipt.number


def test_a_receipt_is_hidden_from_other_citizens_and_refused_to_other_departments(
    make_staff: MakeStaff, other_citizen: User, citizen_bill: Bill
) -> None:
    receipt = Receipt.objects.get(payment=pay(citizen_bill, "100.00"))
    path = f"/api/v1/receipts/{receipt.number}/"
    health_officer = make_staff([Role.REVENUE_OFFICER], department="health")
    inspector = make_staff([Role.INSPECTOR], department="trade")

    assert_problem(
        citizen_client(other_citizen).get(path),
        not_found(path, "There is no receipt with this number."),
    )
    assert_problem(token_client(health_officer).get(path), forbidden(path, detail=None))
    assert_problem(token_client(inspector).get(path), forbidden(path))


# --- Trial balance and revenue report -------------------------------------------------------


def test_the_trial_balance_is_for_staff_who_may_read_the_books(
    make_staff: MakeStaff, citizen: User, citizen_bill: Bill
) -> None:
    pay(citizen_bill, "1000.00")
    auditor = make_staff([Role.AUDITOR], department="finance")
    cashier = make_staff([Role.CASHIER], department="revenue")

    response = token_client(auditor).get(TRIAL_BALANCE)

    assert response.status_code == 200
    assert response.json() == {
        "as_of": None,
        "rows": [
            {
                "code": "1100",
                "name": response.json()["rows"][0]["name"],
                "type": "asset",
                "debit": "1000.00",
                "credit": "0.00",
                "balance": "1000.00",
            },
            {
                "code": "1200",
                "name": response.json()["rows"][1]["name"],
                "type": "asset",
                "debit": "1500.00",
                "credit": "1000.00",
                "balance": "500.00",
            },
            {
                "code": "4210",
                "name": "Market entry fee",
                "type": "revenue",
                "debit": "0.00",
                "credit": "1500.00",
                "balance": "-1500.00",
            },
        ],
        "total_debit": "2500.00",
        "total_credit": "2500.00",
        "is_balanced": True,
    }
    assert_problem(citizen_client(citizen).get(TRIAL_BALANCE), forbidden(TRIAL_BALANCE))
    assert_problem(token_client(cashier).get(TRIAL_BALANCE), forbidden(TRIAL_BALANCE))


def test_the_trial_balance_as_of_a_day_leaves_out_later_entries(
    make_staff: MakeStaff, citizen_bill: Bill
) -> None:
    auditor = make_staff([Role.AUDITOR], department="finance")
    client = token_client(auditor)
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()

    before = client.get(f"{TRIAL_BALANCE}?as_of={yesterday}")
    bad = client.get(f"{TRIAL_BALANCE}?as_of=31-12-2026")

    assert before.json() == {
        "as_of": yesterday,
        "rows": [],
        "total_debit": "0.00",
        "total_credit": "0.00",
        "is_balanced": True,
    }
    assert bad.status_code == 400
    assert bad["Content-Type"] == PROBLEM
    assert list(bad.json()["errors"]) == ["as_of"]


def test_the_revenue_report_groups_collections(
    make_staff: MakeStaff, citizen: User, citizen_bill: Bill
) -> None:
    pay(citizen_bill, "1500.00")
    officer = make_staff([Role.REVENUE_OFFICER], department="revenue")
    today = timezone.localdate().isoformat()
    # One channel only: targets are per stream, so none is shown.
    path = f"{REVENUE}?from={today}&to={today}&group_by=channel&channel=mpesa_paybill"

    response = token_client(officer).get(path)

    assert response.status_code == 200
    assert response.json() == {
        "from": today,
        "to": today,
        "group_by": "channel",
        "rows": [
            {
                "key": "mpesa_paybill",
                "name": "M-Pesa paybill",
                "amount": "1500.00",
                "count": 1,
                "target": None,
                "percent_of_target": None,
            }
        ],
        "total_amount": "1500.00",
        "total_count": 1,
        "total_target": None,
        "percent_of_target": None,
    }
    assert_problem(citizen_client(citizen).get(path), forbidden(REVENUE))


def test_a_revenue_report_needs_an_ordered_period(make_staff: MakeStaff) -> None:
    officer = make_staff([Role.REVENUE_OFFICER], department="revenue")

    response = token_client(officer).get(f"{REVENUE}?from=2026-08-01&to=2026-07-01")

    assert response.status_code == 400
    assert response.json()["errors"] == {"to": ["Must be on or after from."]}


# --- The contract ---------------------------------------------------------------------------


def test_the_schema_describes_every_payments_and_ledger_path(client: Client) -> None:
    response = client.get("/api/schema/")

    text = response.content.decode()
    for path in (
        "/api/v1/bills/",
        "/api/v1/bills/{number}/",
        "/api/v1/payments/stk/",
        "/api/v1/payments/stk/{public_id}/",
        "/api/v1/receipts/{number}/",
        "/api/v1/ledger/trial-balance/",
        "/api/v1/reports/revenue/",
    ):
        assert f"\n  {path}:\n" in text, path
    for summary in ("summary: Raise a bill", "summary: List bills", "name: Idempotency-Key"):
        assert summary in text
    assert "application/problem+json" in text


def test_bills_of_a_department_are_raised_by_its_own_officers_only(
    make_staff: MakeStaff, price_list: None
) -> None:
    """A role held in a department covers its directorates, not other departments."""
    finance_officer = make_staff([Role.REVENUE_OFFICER], department="finance")

    for_revenue = post_json(token_client(finance_officer), BILLS, bill_request("revenue"))
    for_trade = post_json(token_client(finance_officer), BILLS, bill_request("trade"))

    assert for_revenue.status_code == 201
    assert for_trade.status_code == 403
    assert list(Bill.objects.values_list("department__code", flat=True)) == ["revenue"]
    assert Department.objects.get(code="revenue").parent is not None
    assert Bill.objects.get().status == BillStatus.OPEN
