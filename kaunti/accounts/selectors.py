"""Reads of the accounts app."""

from django.db.models import QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from kaunti.accounts.models import PrivacyConsent, RoleAssignment, User, UserKind


def get_active_staff(*, user_id: int) -> User | None:
    return User.objects.filter(pk=user_id, kind=UserKind.STAFF, is_active=True).first()


def match_totp_device(*, user: User, token: str) -> TOTPDevice | None:
    """The user's confirmed TOTP device that accepts `token` (django-otp throttles failures)."""
    for device in TOTPDevice.objects.devices_for_user(user, confirmed=True):
        if device.verify_token(token.strip()):
            return device
    return None


def get_current_consent(*, user: User) -> PrivacyConsent | None:
    return user.consents.filter(withdrawn_at__isnull=True).order_by("-given_at").first()


def list_role_assignments(*, user: User) -> QuerySet[RoleAssignment]:
    return (
        RoleAssignment.objects.filter(user=user)
        .select_related("department")
        .order_by("department__name", "role")
    )
