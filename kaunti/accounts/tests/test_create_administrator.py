"""The first administrator of a fresh install: staff, superuser, with a second factor."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from kaunti.accounts.models import User, UserKind
from kaunti.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def create(*args: str, password: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("KAUNTI_ADMIN_PASSWORD", password)
    out = StringIO()
    call_command("create_administrator", *args, stdout=out)
    return out.getvalue()


def test_the_administrator_is_county_staff_with_an_authenticator(
    reference_data: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = create(
        "ict.admin",
        "--full-name",
        "Wanjiru Otieno",
        password="a-long-pass-phrase-9",
        monkeypatch=monkeypatch,
    )
    user = User.objects.get(username="ict.admin")
    assert user.kind == UserKind.STAFF
    assert user.is_superuser
    assert user.is_staff
    assert user.department is not None
    assert user.department.code == "ict"
    assert user.check_password("a-long-pass-phrase-9")
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    assert device.config_url in out  # the secret to add to the app, shown once
    assert AuditEvent.objects.filter(action="accounts.staff_created").exists()


def test_a_weak_password_or_a_taken_name_is_refused(
    reference_data: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(CommandError):
        create("ict.admin", "--full-name", "W O", password="password", monkeypatch=monkeypatch)
    assert not User.objects.filter(username="ict.admin").exists()
    create(
        "ict.admin", "--full-name", "W O", password="a-long-pass-phrase-9", monkeypatch=monkeypatch
    )
    with pytest.raises(CommandError):
        create(
            "ict.admin",
            "--full-name",
            "W O",
            password="a-long-pass-phrase-9",
            monkeypatch=monkeypatch,
        )


def test_the_county_data_commands_load_what_the_catalogue_needs(reference_data: None) -> None:
    out = StringIO()
    call_command("load_chart_of_accounts", stdout=out)
    call_command("load_price_list", stdout=out)
    call_command("load_catalogue", stdout=out)
    assert "revenue streams" in out.getvalue()
