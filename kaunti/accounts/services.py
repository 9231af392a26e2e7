"""Every write of the accounts app: sign-in codes, citizen sign-up, profiles, staff, roles."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from kaunti.accounts.authentication import token_digest
from kaunti.accounts.models import (
    ApiToken,
    CodePurpose,
    PrivacyConsent,
    Role,
    RoleAssignment,
    SignInCode,
    User,
    UserKind,
)
from kaunti.core import ratelimit
from kaunti.core.identifiers import normalise_kra_pin, normalise_national_id, normalise_phone
from kaunti.core.models import Department
from kaunti.core.services.audit import record_event
from kaunti.core.services.notifications import queue_sms


class SignInCodeError(Exception):
    """A code could not be sent or accepted; the message is for the person signing in."""


def _hash_code(public_id: UUID, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{public_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _active_citizen(phone: str) -> User | None:
    return User.objects.filter(phone=phone, kind=UserKind.CITIZEN, is_active=True).first()


def _phone_taken(phone: str) -> bool:
    """Any account (closed ones and staff too) holds this number, so no new one may."""
    return User.objects.filter(models.Q(phone=phone) | models.Q(username=phone)).exists()


@transaction.atomic
def request_sign_in_code(
    *, phone: str, purpose: CodePurpose, ip_address: str, language: str
) -> SignInCode:
    """Send a fresh 6-digit code by SMS; earlier unused codes for this phone stop working.

    Rate-limited per phone and per IP address. For sign-in, a phone with no account is
    sent nothing, but gets a code record all the same, so the answer does not reveal
    who has an account. For sign-up, a phone that already has one is told to sign in.
    """
    phone = normalise_phone(phone)
    window = 3600
    if not ratelimit.allow(
        scope="code-ip",
        identity=ip_address,
        limit=settings.SIGN_IN_CODE_SENDS_PER_IP_PER_HOUR,
        window_seconds=window,
    ) or not ratelimit.allow(
        scope="code-phone",
        identity=phone,
        limit=settings.SIGN_IN_CODE_SENDS_PER_PHONE_PER_HOUR,
        window_seconds=window,
    ):
        raise SignInCodeError(_("Too many codes were requested. Wait an hour, then try again."))
    account = _active_citizen(phone)
    if purpose == CodePurpose.SIGN_UP and _phone_taken(phone):
        raise SignInCodeError(_("This phone number already has an account. Sign in instead."))

    now = timezone.now()
    SignInCode.objects.filter(phone=phone, purpose=purpose, used_at__isnull=True).update(
        used_at=now
    )
    code = f"{secrets.randbelow(1_000_000):06d}"
    record = SignInCode(
        phone=phone,
        purpose=purpose,
        expires_at=now + timedelta(seconds=settings.SIGN_IN_CODE_TTL_SECONDS),
    )
    record.code_hash = _hash_code(record.public_id, code)
    record.save()
    if purpose == CodePurpose.SIGN_UP or account is not None:
        queue_sms(
            to=phone,
            template="sign_in_code",
            context={"code": code, "minutes": settings.SIGN_IN_CODE_TTL_SECONDS // 60},
            language=account.preferred_language if account else language,
        )
    return record


def verify_sign_in_code(*, code_id: UUID | str, code: str) -> SignInCode:
    """Accept the code once: right, not expired, not used, and within 5 attempts.

    A wrong try is committed before the refusal is raised: raising inside the transaction
    would roll the count back and allow unlimited guesses.
    """
    with transaction.atomic():
        record, refusal = _try_sign_in_code(code_id=code_id, code=code)
    if refusal:
        raise SignInCodeError(refusal)
    assert record is not None
    return record


def _try_sign_in_code(*, code_id: UUID | str, code: str) -> tuple[SignInCode | None, str]:
    """The record and "" when `code` is accepted, else the reason it is refused."""
    record = SignInCode.objects.select_for_update().filter(public_id=code_id).first()
    if record is None or record.used_at is not None:
        return None, _("This code is no longer valid. Ask for a new one.")
    if record.expires_at <= timezone.now():
        return None, _("This code has expired. Ask for a new one.")
    if record.attempts >= settings.SIGN_IN_CODE_MAX_ATTEMPTS:
        return None, _("Too many wrong codes. Ask for a new one.")
    record.attempts += 1
    # ASCII digits only: a full-width "123" is not the code we sent, whatever str.isdigit() says.
    entered = "".join(ch for ch in code if "0" <= ch <= "9")
    if not hmac.compare_digest(record.code_hash, _hash_code(record.public_id, entered)):
        record.save(update_fields=["attempts"])
        left = settings.SIGN_IN_CODE_MAX_ATTEMPTS - record.attempts
        if left <= 0:
            return None, _("Too many wrong codes. Ask for a new one.")
        return None, _("That code is not right. Check the SMS and try again.")
    record.used_at = timezone.now()
    record.save(update_fields=["attempts", "used_at"])
    return record, ""


def sign_in_citizen(*, verified_code: SignInCode) -> User:
    """The citizen a verified sign-in code belongs to."""
    account = _active_citizen(verified_code.phone)
    if verified_code.purpose != CodePurpose.SIGN_IN or account is None:
        raise SignInCodeError(
            _("We could not find an account for this phone number. Sign up first.")
        )
    return account


@transaction.atomic
def register_citizen(
    *,
    verified_code: SignInCode,
    full_name: str,
    language: str,
    notice_version: str,
    channel: str = "web",
) -> User:
    """Create a citizen's account with the consent they gave (Data Protection Act 2019, s. 32)."""
    if verified_code.purpose != CodePurpose.SIGN_UP:
        raise SignInCodeError(_("This code was not sent for signing up."))
    full_name = " ".join(full_name.split())
    if not full_name:
        raise ValidationError({"full_name": _("Enter your full name.")})
    if _phone_taken(verified_code.phone):
        raise SignInCodeError(_("This phone number already has an account. Sign in instead."))
    user = User(
        username=verified_code.phone,
        phone=verified_code.phone,
        kind=UserKind.CITIZEN,
        full_name=full_name,
        preferred_language=language if language in ("en", "sw") else "en",
    )
    user.set_unusable_password()
    user.full_clean()
    user.save()
    consent = PrivacyConsent.objects.create(
        user=user, notice_version=notice_version, given_at=timezone.now(), channel=channel
    )
    record_event(
        actor=user,
        action="accounts.citizen_registered",
        target=user,
        data={"notice_version": consent.notice_version, "channel": channel},
    )
    return user


def get_or_register_citizen_by_phone(
    *, phone: str, full_name: str, language: str, notice_version: str, channel: str = "ussd"
) -> User:
    """The active citizen who holds `phone`, or a new account for it with the consent given
    on a phone channel (Data Protection Act 2019, s. 32), as `register_citizen` records.

    The phone channel itself (the mobile network's caller number) stands in for the SMS
    code of the web sign-up. A number held by a staff or closed account gets no new one.
    """
    msisdn = normalise_phone(phone)
    existing = _active_citizen(msisdn)
    if existing is not None:
        return existing
    full_name = " ".join(full_name.split())
    if not full_name:
        raise ValidationError({"full_name": _("Enter your full name.")})
    if _phone_taken(msisdn):
        raise ValidationError(_("This phone number cannot be used here. Visit a county office."))
    try:
        with transaction.atomic():
            user = User(
                username=msisdn,
                phone=msisdn,
                kind=UserKind.CITIZEN,
                full_name=full_name[:150],
                preferred_language=language if language in ("en", "sw") else "en",
            )
            user.set_unusable_password()
            user.full_clean()
            user.save()
            consent = PrivacyConsent.objects.create(
                user=user, notice_version=notice_version, given_at=timezone.now(), channel=channel
            )
            record_event(
                actor=user,
                action="accounts.citizen_registered",
                target=user,
                data={"notice_version": consent.notice_version, "channel": channel},
            )
    except IntegrityError:
        # The same person's other session registered the number a moment earlier.
        existing = _active_citizen(msisdn)
        if existing is None:
            raise
        return existing
    return user


@transaction.atomic
def update_profile(
    *, user: User, full_name: str, email: str = "", national_id: str = "", kra_pin: str = ""
) -> User:
    """Change a person's own profile; identifiers are checked and normalised."""
    errors: dict[str, Any] = {}
    full_name = " ".join(full_name.split())
    if not full_name:
        errors["full_name"] = _("Enter your full name.")
    try:
        national_id = normalise_national_id(national_id) if national_id.strip() else ""
    except ValidationError as exc:
        errors["national_id"] = exc.messages
    try:
        kra_pin = normalise_kra_pin(kra_pin) if kra_pin.strip() else ""
    except ValidationError as exc:
        errors["kra_pin"] = exc.messages
    if errors:
        raise ValidationError(errors)
    before = {
        "full_name": user.full_name,
        "email": user.email,
        "national_id": user.national_id,
        "kra_pin": user.kra_pin,
    }
    user.full_name, user.email, user.national_id, user.kra_pin = (
        full_name,
        email.strip(),
        national_id,
        kra_pin,
    )
    user.full_clean()
    user.save(update_fields=["full_name", "email", "national_id", "kra_pin"])
    after = {
        "full_name": user.full_name,
        "email": user.email,
        "national_id": user.national_id,
        "kra_pin": user.kra_pin,
    }
    changed = sorted(key for key in after if after[key] != before[key])
    if changed:
        record_event(
            actor=user, action="accounts.profile_updated", target=user, data={"fields": changed}
        )
    return user


def set_preferred_language(*, user: User, language: str) -> None:
    """Remember a signed-in person's language; SMS to them use it too."""
    if language in dict(settings.LANGUAGES) and user.preferred_language != language:
        user.preferred_language = language
        user.save(update_fields=["preferred_language"])


@dataclass(frozen=True)
class NewStaff:
    user: User
    totp_device: TOTPDevice


@transaction.atomic
def create_staff_user(
    *,
    username: str,
    full_name: str,
    password: str,
    department: Department,
    roles: list[str],
    created_by: User | None,
    email: str = "",
    is_superuser: bool = False,
) -> NewStaff:
    """Create a staff member with a password, roles in their department and a TOTP device."""
    user = User(
        username=username,
        full_name=full_name,
        kind=UserKind.STAFF,
        department=department,
        email=email,
        is_staff=is_superuser,
        is_superuser=is_superuser,
    )
    user.set_password(password)
    user.full_clean()
    user.save()
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    for role in roles:
        assign_role(user=user, department=department, role=role, granted_by=created_by)
    record_event(
        actor=created_by,
        action="accounts.staff_created",
        target=user,
        data={"department": department.code, "roles": sorted(roles), "superuser": is_superuser},
    )
    return NewStaff(user=user, totp_device=device)


@transaction.atomic
def assign_role(
    *, user: User, department: Department, role: str, granted_by: User | None
) -> RoleAssignment:
    """Give a staff member a role in a department (idempotent)."""
    if not user.is_county_staff:
        raise ValidationError(_("Only county staff can hold roles."))
    if role not in Role.values:
        raise ValidationError(_("Unknown role."))
    assignment, created = RoleAssignment.objects.get_or_create(
        user=user, department=department, role=role, defaults={"granted_by": granted_by}
    )
    if created:
        record_event(
            actor=granted_by,
            action="accounts.role_assigned",
            target=user,
            data={"department": department.code, "role": role},
        )
    return assignment


@transaction.atomic
def revoke_role(*, user: User, department: Department, role: str, revoked_by: User | None) -> None:
    deleted, _count = RoleAssignment.objects.filter(
        user=user, department=department, role=role
    ).delete()
    if deleted:
        record_event(
            actor=revoked_by,
            action="accounts.role_revoked",
            target=user,
            data={"department": department.code, "role": role},
        )


@transaction.atomic
@transaction.atomic
def issue_api_token(*, user: User, issued_by: User | None = None) -> str:
    """A fresh API key for `user` (any earlier one stops working). Only its digest is
    kept: the key returned here is the only copy."""
    key = secrets.token_hex(20)
    ApiToken.objects.update_or_create(
        user=user, defaults={"digest": token_digest(key), "created_at": timezone.now()}
    )
    record_event(actor=issued_by, action="accounts.api_token_issued", target=user)
    return key


def record_staff_sign_in(*, user: User, ip_address: str) -> None:
    record_event(
        actor=user, action="accounts.staff_signed_in", target=user, data={"ip": ip_address}
    )
