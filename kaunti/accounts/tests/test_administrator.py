"""The deployment's administrator (an active staff superuser) passes every action check
(ADR 14); staff without the role are refused as before."""

import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from kaunti.accounts.models import Role, User
from kaunti.accounts.permissions import ACTION_ROLES, departments_where, has_permission
from kaunti.accounts.services import issue_api_token
from kaunti.conftest import sign_in_staff
from kaunti.core.models import AuditEvent, Department
from kaunti.ledger.services import load_chart_of_accounts
from kaunti.payments.models import Bill
from kaunti.payments.services.price_list import load_price_list

MakeStaff = Callable[..., User]

pytestmark = pytest.mark.django_db


@pytest.fixture
def administrator(make_staff: MakeStaff) -> User:
    """As the demo's `admin`: an ICT officer of ICT who is a superuser."""
    return make_staff([Role.ICT_OFFICER], department="ict", superuser=True)


@pytest.fixture
def ict_officer(make_staff: MakeStaff) -> User:
    """The same role in the same department, without being a superuser."""
    return make_staff([Role.ICT_OFFICER], department="ict")


@pytest.fixture
def price_list(reference_data: None) -> None:
    load_chart_of_accounts()
    load_price_list(county_code=settings.COUNTY_CODE)


def token_client(user: User) -> Client:
    return Client(headers={"Authorization": f"Token {issue_api_token(user=user)}"})


def bill_request() -> dict[str, Any]:
    return {
        "payer": {"name": "Kamau Mwangi", "phone": "0722 000 333", "id_number": "11223344"},
        "department": "trade",
        "ward": "0441",
        "due_on": (date.today() + timedelta(days=14)).isoformat(),
        "description": "Market fees, March",
        "lines": [{"stream": "market-fee", "quantity": "3"}],
    }


def test_an_administrator_passes_every_action_check_in_every_department(
    administrator: User,
) -> None:
    for department in Department.objects.all():
        for action in ACTION_ROLES:
            assert has_permission(administrator, action, department), (action, department.code)
    assert len(departments_where(administrator, "payments.view_bills")) == (
        Department.objects.count()
    )


def test_an_inactive_administrator_passes_no_check(administrator: User) -> None:
    administrator.is_active = False
    administrator.save(update_fields=["is_active"])

    assert not has_permission(administrator, "payments.view_bills")
    assert departments_where(administrator, "payments.view_bills") == []


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/bills/",
        "/api/v1/land/parcels/",
        "/api/v1/ledger/trial-balance/",
        "/api/v1/work-queue/",
        "/api/v1/complaints/",
    ],
)
def test_an_administrator_reads_what_only_other_roles_could(
    administrator: User, ict_officer: User, price_list: None, path: str
) -> None:
    refused = token_client(ict_officer).get(path)
    allowed = token_client(administrator).get(path)

    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"
    assert allowed.status_code == 200, allowed.content[:300]


def test_an_administrator_raises_a_bill_and_the_audit_chain_names_them(
    administrator: User, ict_officer: User, price_list: None
) -> None:
    body = json.dumps(bill_request())

    refused = token_client(ict_officer).post(
        "/api/v1/bills/", body, content_type="application/json"
    )
    assert refused.status_code == 403
    assert Bill.objects.count() == 0
    assert not AuditEvent.objects.filter(action="payments.bill_raised").exists()

    raised = token_client(administrator).post(
        "/api/v1/bills/", body, content_type="application/json"
    )

    assert raised.status_code == 201, raised.content[:300]
    bill = Bill.objects.get()
    assert bill.created_by == administrator
    assert bill.department.code == "trade"
    event = AuditEvent.objects.get(action="payments.bill_raised")
    assert event.actor == administrator
    assert event.actor_label == administrator.username


@pytest.mark.parametrize(
    "path", ["/staff/land/parcels/", "/staff/ledger/", "/staff/applications/", "/staff/land/map/"]
)
def test_an_administrator_opens_staff_pages_refused_to_their_role(
    administrator: User, ict_officer: User, price_list: None, path: str
) -> None:
    officer_client, administrator_client = Client(), Client()
    sign_in_staff(officer_client, ict_officer)
    sign_in_staff(administrator_client, administrator)

    assert officer_client.get(path).status_code == 403
    assert administrator_client.get(path).status_code == 200


def test_a_superuser_who_is_not_staff_passes_no_check(reference_data: None) -> None:
    """What `manage.py createsuperuser` makes: a user of the default kind, a citizen."""
    superuser = User.objects.create(
        username="254712000999", phone="254712000999", is_superuser=True, is_staff=True
    )

    assert superuser.is_citizen
    assert not has_permission(superuser, "payments.view_bills")
    assert departments_where(superuser, "payments.view_bills") == []
