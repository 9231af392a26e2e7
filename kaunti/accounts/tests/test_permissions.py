"""Who may do what, where: the role matrix, directorates under departments, and /staff/."""

from collections.abc import Callable

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.test import Client
from pytest_django import DjangoAssertNumQueries
from pytest_django.asserts import assertContains, assertRedirects

from kaunti.accounts.models import Role, RoleAssignment, User
from kaunti.accounts.permissions import (
    ACTION_ROLES,
    COUNTY_WIDE_ROLES,
    departments_where,
    has_any_permission,
    has_permission,
    has_permission_in_any,
    remember_roles,
    require_permission,
)
from kaunti.conftest import sign_in_staff
from kaunti.core.models import Department

MakeStaff = Callable[..., User]
DepartmentByCode = Callable[[str], Department]

ACTIONS = [
    "accounts.view_staff_home",
    "payments.raise_bill",
    "payments.receive_payment",
    "core.view_audit",
    "eservices.approve",
    "accounts.manage_roles",
    "land.edit_parcels",
]

# What each role may do among ACTIONS, written out by hand (not derived from ACTION_ROLES),
# so a change to the matrix has to change this table too.
ALLOWED: dict[str, set[str]] = {
    Role.REVENUE_OFFICER: {"accounts.view_staff_home", "payments.raise_bill"},
    Role.CASHIER: {"accounts.view_staff_home", "payments.receive_payment"},
    Role.APPROVER: {"accounts.view_staff_home", "eservices.approve"},
    Role.INSPECTOR: {"accounts.view_staff_home"},
    Role.SUPERVISOR: {
        "accounts.view_staff_home",
        "payments.raise_bill",
        "accounts.manage_roles",
        "land.edit_parcels",
    },
    Role.ICT_OFFICER: {"accounts.view_staff_home", "core.view_audit", "accounts.manage_roles"},
    Role.AUDITOR: {"accounts.view_staff_home", "core.view_audit"},
    Role.LAND_OFFICER: {"accounts.view_staff_home", "land.edit_parcels", "eservices.approve"},
}


def test_the_matrix_covers_every_role_and_only_known_actions() -> None:
    assert set(ALLOWED) == set(Role.values)
    assert set(ACTIONS) <= set(ACTION_ROLES)


@pytest.mark.django_db
@pytest.mark.parametrize("role", Role.values)
def test_role_in_a_department_grants_its_actions_there_and_in_its_directorates(
    make_staff: MakeStaff, department: DepartmentByCode, role: str
) -> None:
    holder = make_staff([role], department="finance")
    finance, revenue, health = department("finance"), department("revenue"), department("health")
    assert revenue.parent == finance
    assert health.parent is None

    for action in ACTIONS:
        expected = action in ALLOWED[role]
        elsewhere = expected if role == Role.AUDITOR else False  # internal audit: county-wide
        assert has_permission(holder, action, finance) is expected, (role, action, "finance")
        assert has_permission(holder, action, revenue) is expected, (role, action, "revenue")
        assert has_permission(holder, action) is expected, (role, action, "any department")
        assert has_permission(holder, action, health) is elsewhere, (role, action, "health")


@pytest.mark.django_db
def test_role_in_a_directorate_does_not_cover_its_parent_or_siblings(
    make_staff: MakeStaff, department: DepartmentByCode
) -> None:
    cashier = make_staff([Role.CASHIER], department="revenue")

    assert has_permission(cashier, "payments.receive_payment", department("revenue")) is True
    assert has_permission(cashier, "payments.receive_payment", department("finance")) is False
    assert has_permission(cashier, "payments.receive_payment", department("ict")) is False


@pytest.mark.django_db
def test_an_auditor_reads_every_department_wherever_the_role_is_held(
    make_staff: MakeStaff, department: DepartmentByCode
) -> None:
    auditor = make_staff([Role.AUDITOR], department="audit")
    places = ["audit", "finance", "revenue", "health", "lands", "trade"]

    for code in places:
        for action in ("payments.view_bills", "ledger.view", "eservices.view_applications"):
            assert has_permission(auditor, action, department(code)), (action, code)
        assert not has_permission(auditor, "payments.raise_bill", department(code)), code
    assert {d.code for d in departments_where(auditor, "payments.view_bills")} == set(
        Department.objects.values_list("code", flat=True)
    )
    assert departments_where(auditor, "payments.raise_bill") == []


def test_county_wide_roles_grant_only_actions_that_read() -> None:
    for role in COUNTY_WIDE_ROLES:
        granted = [action for action, roles in ACTION_ROLES.items() if role in roles]
        assert granted, role
        for action in granted:
            assert action.split(".", 1)[1].startswith("view"), (role, action)


@pytest.mark.django_db
def test_people_without_staff_roles_hold_no_permission(
    make_staff: MakeStaff, department: DepartmentByCode, citizen: User
) -> None:
    inactive = make_staff([Role.SUPERVISOR, Role.CASHIER], department="finance")
    inactive.is_active = False
    inactive.save()
    no_roles = make_staff([], department="finance")
    people = {
        "anonymous": AnonymousUser(),
        "citizen": citizen,
        "inactive staff": inactive,
        "staff without roles": no_roles,
    }

    for who, person in people.items():
        for action in ACTIONS:
            for place in (None, department("finance"), department("revenue")):
                assert has_permission(person, action, place) is False, (who, action, place)
    assert RoleAssignment.objects.filter(user=inactive).count() == 2


@pytest.mark.django_db
def test_unknown_action_raises_instead_of_refusing_quietly(
    make_staff: MakeStaff, department: DepartmentByCode
) -> None:
    supervisor = make_staff([Role.SUPERVISOR], department="finance")

    for person in (supervisor, AnonymousUser()):
        with pytest.raises(ValueError, match=r"unknown action 'payments\.refund_everything'"):
            has_permission(person, "payments.refund_everything", department("finance"))


@pytest.mark.django_db
def test_require_permission_refuses_with_permission_denied(
    make_staff: MakeStaff, department: DepartmentByCode
) -> None:
    cashier = make_staff([Role.CASHIER], department="revenue")

    require_permission(cashier, "payments.receive_payment", department("revenue"))
    with pytest.raises(PermissionDenied):
        require_permission(cashier, "payments.cancel_receipt", department("revenue"))


@pytest.mark.django_db
def test_one_check_covers_several_departments_or_several_actions(
    make_staff: MakeStaff, department: DepartmentByCode
) -> None:
    cashier = make_staff([Role.CASHIER], department="revenue")
    receive = "payments.receive_payment"

    assert has_permission_in_any(cashier, receive, [department("health"), department("revenue")])
    assert not has_permission_in_any(cashier, receive, [department("health"), department("ict")])
    assert not has_permission_in_any(cashier, receive, [])
    assert has_any_permission(cashier, ["payments.raise_bill", receive]) is True
    assert has_any_permission(cashier, ["payments.raise_bill", "ledger.close_period"]) is False
    assert has_any_permission(AnonymousUser(), [receive]) is False


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(ALLOWED))
def test_remembered_roles_answer_as_the_database_does_without_a_query(
    make_staff: MakeStaff,
    department: DepartmentByCode,
    role: str,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    holder = make_staff([role], department="finance")
    places = [None, department("finance"), department("revenue"), department("health")]
    expected = {
        (action, place): has_permission(holder, action, place)
        for action in ACTIONS
        for place in places
    }

    remember_roles(holder)
    with django_assert_num_queries(0):
        for (action, place), allowed in expected.items():
            assert has_permission(holder, action, place) is allowed, (role, action, place)


# --- The staff home over HTTP --------------------------------------------------------------


@pytest.mark.django_db
def test_staff_home_sends_anonymous_visitors_to_staff_sign_in(client: Client) -> None:
    response = client.get("/staff/")

    assertRedirects(response, "/staff/sign-in/?next=/staff/", fetch_redirect_response=False)


@pytest.mark.django_db
def test_staff_home_is_forbidden_to_citizens(client: Client, citizen: User) -> None:
    client.force_login(citizen)

    response = client.get("/staff/")

    assertContains(response, "You cannot see this page", status_code=403)


@pytest.mark.django_db
def test_staff_home_is_forbidden_without_the_second_factor(
    client: Client, make_staff: MakeStaff
) -> None:
    supervisor = make_staff([Role.SUPERVISOR])
    client.force_login(supervisor)

    response = client.get("/staff/")

    assertContains(response, "You cannot see this page", status_code=403)


@pytest.mark.django_db
def test_staff_home_is_forbidden_to_staff_without_roles(
    client: Client, make_staff: MakeStaff
) -> None:
    no_roles = make_staff([])
    sign_in_staff(client, no_roles)

    response = client.get("/staff/")

    assertContains(response, "You cannot see this page", status_code=403)


@pytest.mark.django_db
def test_staff_home_lists_the_roles_of_staff_signed_in_properly(
    client: Client, make_staff: MakeStaff
) -> None:
    officer = make_staff([Role.REVENUE_OFFICER, Role.CASHIER], department="revenue")
    sign_in_staff(client, officer)

    response = client.get("/staff/")

    assertContains(response, "Welcome, Staff Member 1")
    assertContains(
        response,
        '<tr class="govuk-table__row"><td class="govuk-table__cell">Revenue Directorate</td>'
        '<td class="govuk-table__cell">Cashier</td></tr>',
        html=True,
    )
    assertContains(
        response,
        '<tr class="govuk-table__row"><td class="govuk-table__cell">Revenue Directorate</td>'
        '<td class="govuk-table__cell">Revenue officer</td></tr>',
        html=True,
    )
    assertContains(response, '<td class="govuk-table__cell">', count=4)
