"""Staff sign in with a password, then a TOTP code; the admin wants a verified superuser."""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.asserts import assertContains, assertRedirects

from kaunti.accounts.models import User
from kaunti.accounts.views import PENDING_STAFF
from kaunti.conftest import STAFF_PASSWORD, current_totp, sign_in_staff
from kaunti.core.models import AuditEvent

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

STAFF_SIGN_IN = "/staff/sign-in/"
STAFF_CODE = "/staff/sign-in/code/"
STAFF_HOME = "/staff/"

MakeStaff = Callable[..., User]


def enter_password(
    client: Client, user: User, password: str = STAFF_PASSWORD, ip: str = "127.0.0.1"
) -> "Response":
    return client.post(
        STAFF_SIGN_IN, {"username": user.username, "password": password}, REMOTE_ADDR=ip
    )


def sign_in_events(user: User) -> list[tuple[int | None, Any]]:
    """(actor, data) of each "staff signed in" audit event about `user`, oldest first."""
    return list(
        AuditEvent.objects.filter(action="accounts.staff_signed_in", target_id=str(user.pk))
        .order_by("pk")
        .values_list("actor_id", "data")
    )


def next_totp(user: User) -> str:
    """The code the app shows in the next 30 seconds (accepted: one step of clock drift)."""
    device = TOTPDevice.objects.get(user=user)
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=1)
    return f"{code:06d}"


def other_code(user: User) -> str:
    """A 6-digit code the device does not accept now (far from the current one)."""
    return f"{(int(current_totp(user)) + 500_000) % 1_000_000:06d}"


def test_password_then_totp_signs_staff_in_and_is_audited(
    client: Client, make_staff: MakeStaff
) -> None:
    cashier = make_staff(["cashier"])

    sign_in_staff(client, cashier)

    assert get_user(client) == cashier
    response = client.get(STAFF_HOME)
    assertContains(response, "Welcome, Staff Member 1")
    assert sign_in_events(cashier) == [(cashier.pk, {"ip": "127.0.0.1"})]
    assert PENDING_STAFF not in client.session


def test_every_staff_sign_in_is_audited(client: Client, make_staff: MakeStaff) -> None:
    cashier = make_staff(["cashier"])

    sign_in_staff(client, cashier)
    client.post("/account/sign-out/")
    other_device = Client(REMOTE_ADDR="196.201.214.20")
    enter_password(other_device, cashier, ip="196.201.214.20")
    other_device.post(STAFF_CODE, {"token": next_totp(cashier)})

    assert get_user(other_device) == cashier
    assert sign_in_events(cashier) == [
        (cashier.pk, {"ip": "127.0.0.1"}),
        (cashier.pk, {"ip": "196.201.214.20"}),
    ]


def test_totp_code_cannot_be_used_twice(client: Client, make_staff: MakeStaff) -> None:
    cashier = make_staff(["cashier"])
    code = current_totp(cashier)
    enter_password(client, cashier)
    client.post(STAFF_CODE, {"token": code})
    client.post("/account/sign-out/")
    enter_password(client, cashier)

    response = client.post(STAFF_CODE, {"token": code})

    assertContains(
        response, "That code is not right. Wait for a new code in the app and try again."
    )
    assert not get_user(client).is_authenticated
    assert len(sign_in_events(cashier)) == 1


def test_right_password_alone_does_not_sign_in(client: Client, make_staff: MakeStaff) -> None:
    cashier = make_staff(["cashier"])

    response = enter_password(client, cashier)

    assertRedirects(response, STAFF_CODE, fetch_redirect_response=False)
    assertContains(client.get(STAFF_CODE), "Enter the code from your authenticator app")
    assert not get_user(client).is_authenticated
    assertRedirects(
        client.get(STAFF_HOME),
        f"{STAFF_SIGN_IN}?next=/staff/",
        fetch_redirect_response=False,
    )
    assert sign_in_events(cashier) == []


def test_wrong_totp_code_is_refused(client: Client, make_staff: MakeStaff) -> None:
    cashier = make_staff(["cashier"])
    enter_password(client, cashier)
    pending = client.session[PENDING_STAFF]

    response = client.post(STAFF_CODE, {"token": other_code(cashier)})

    assertContains(
        response,
        "That code is not right. Wait for a new code in the app and try again.",
        count=2,
    )
    assert not get_user(client).is_authenticated
    assert client.session[PENDING_STAFF] == pending
    assert sign_in_events(cashier) == []
    assertRedirects(
        client.get(STAFF_HOME), f"{STAFF_SIGN_IN}?next=/staff/", fetch_redirect_response=False
    )


def test_totp_step_without_the_password_step_goes_back_to_sign_in(
    client: Client, make_staff: MakeStaff
) -> None:
    cashier = make_staff(["cashier"])

    response = client.post(STAFF_CODE, {"token": current_totp(cashier)})

    assertRedirects(response, STAFF_SIGN_IN, fetch_redirect_response=False)
    assert not get_user(client).is_authenticated
    assert sign_in_events(cashier) == []


def test_wrong_password_is_refused(client: Client, make_staff: MakeStaff) -> None:
    cashier = make_staff(["cashier"])

    response = enter_password(client, cashier, password="not the password at all")

    assertContains(response, "The username or password is not right.", count=1)
    assert PENDING_STAFF not in client.session
    assert not get_user(client).is_authenticated


def test_account_locks_after_too_many_wrong_passwords(
    client: Client, make_staff: MakeStaff
) -> None:
    cashier = make_staff(["cashier"])
    limit = settings.AXES_FAILURE_LIMIT
    assert limit == 5
    for _attempt in range(limit - 1):
        response = enter_password(client, cashier, password="not the password at all")
        assertContains(response, "The username or password is not right.")

    locked = enter_password(client, cashier, password="not the password at all")
    with_right_password = enter_password(client, cashier)

    for response in (locked, with_right_password):
        assertContains(response, "Your account is locked for now", status_code=429)
        assertContains(response, "Try again in 30 minutes", status_code=429)
    assert PENDING_STAFF not in client.session
    assert not get_user(client).is_authenticated
    assert sign_in_events(cashier) == []
    # The lock holds for the account, from any address.
    elsewhere = Client()
    response = enter_password(elsewhere, cashier, ip="196.201.214.30")
    assertContains(response, "Your account is locked for now", status_code=429)
    assert PENDING_STAFF not in elsewhere.session


def test_citizen_cannot_use_staff_sign_in(client: Client, citizen: User) -> None:
    citizen.set_password(STAFF_PASSWORD)
    citizen.save()

    response = client.post(
        STAFF_SIGN_IN, {"username": citizen.username, "password": STAFF_PASSWORD}
    )

    assertContains(response, "The username or password is not right.", count=1)
    assert PENDING_STAFF not in client.session
    assert not get_user(client).is_authenticated
    assert not AuditEvent.objects.filter(action="accounts.staff_signed_in").exists()


# --- The Django admin ----------------------------------------------------------------------


def test_admin_sends_a_superuser_without_the_second_factor_to_staff_sign_in(
    client: Client, make_staff: MakeStaff
) -> None:
    admin = make_staff(["ict_officer"], department="ict", superuser=True)
    client.force_login(admin)

    response = client.get("/admin/", follow=True)

    assert response.redirect_chain == [
        ("/admin/login/?next=/admin/", 302),
        ("/staff/sign-in/?next=%2Fadmin%2F", 302),
    ]
    assertContains(response, "Staff sign in")
    assert client.get("/admin/accounts/user/").status_code == 302


def test_admin_refuses_staff_who_are_not_superusers(client: Client, make_staff: MakeStaff) -> None:
    supervisor = make_staff(["supervisor"])
    sign_in_staff(client, supervisor)

    response = client.get("/admin/")

    assertRedirects(response, "/admin/login/?next=/admin/", fetch_redirect_response=False)
    assert client.get("/admin/accounts/user/").status_code == 302
    assert get_user(client) == supervisor


def test_admin_admits_a_superuser_signed_in_with_totp(
    client: Client, make_staff: MakeStaff
) -> None:
    admin = make_staff(["ict_officer"], department="ict", superuser=True)
    sign_in_staff(client, admin)

    response = client.get("/admin/")

    assertContains(response, "Kaunti administration")
    assertContains(client.get("/admin/accounts/user/"), admin.username)


def test_superuser_sent_from_the_admin_comes_back_to_it_after_signing_in(
    client: Client, make_staff: MakeStaff
) -> None:
    admin = make_staff(["ict_officer"], department="ict", superuser=True)

    response = client.post(
        "/staff/sign-in/?next=%2Fadmin%2F",
        {"username": admin.username, "password": STAFF_PASSWORD, "next": "/admin/"},
    )
    assertRedirects(response, STAFF_CODE, fetch_redirect_response=False)
    response = client.post(STAFF_CODE, {"token": current_totp(admin)})

    assertRedirects(response, "/admin/", fetch_redirect_response=False)
    assertContains(client.get("/admin/"), "Kaunti administration")


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/admin/"])
def test_staff_sign_in_does_not_redirect_off_site(
    client: Client, make_staff: MakeStaff, next_url: str
) -> None:
    cashier = make_staff(["cashier"])

    client.post(
        STAFF_SIGN_IN,
        {"username": cashier.username, "password": STAFF_PASSWORD, "next": next_url},
    )
    response = client.post(STAFF_CODE, {"token": current_totp(cashier)})

    assertRedirects(response, STAFF_HOME, fetch_redirect_response=False)
