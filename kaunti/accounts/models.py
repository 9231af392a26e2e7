"""Users (citizens and staff), citizens' consent, one-time sign-in codes, staff roles."""

import uuid
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin, UserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kaunti.core.models import Department


class UserKind(models.TextChoices):
    CITIZEN = "citizen", _("Citizen")
    STAFF = "staff", _("County staff")


class KauntiUserManager(UserManager["User"]):
    def create_superuser(
        self, username: str, email: str | None = None, password: str | None = None, **extra: Any
    ) -> "User":
        extra.setdefault("kind", UserKind.STAFF)
        return super().create_superuser(username, email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in: a citizen (by phone and SMS code) or staff (password and TOTP).

    Citizens' `username` is their phone number; staff choose one. `is_staff` is Django's
    admin flag, and the admin also requires a superuser with a verified second factor.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    username = models.CharField(_("username"), max_length=150, unique=True)
    kind = models.CharField(max_length=10, choices=UserKind.choices, default=UserKind.CITIZEN)
    full_name = models.CharField(_("full name"), max_length=150)
    phone = models.CharField(_("phone number"), max_length=12, unique=True, null=True, blank=True)
    email = models.EmailField(_("email"), blank=True)
    national_id = models.CharField(_("national ID number"), max_length=9, blank=True)
    kra_pin = models.CharField(_("KRA PIN"), max_length=11, blank=True)
    preferred_language = models.CharField(
        _("language"), max_length=5, choices=[("en", "English"), ("sw", "Kiswahili")], default="en"
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="staff"
    )
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = KauntiUserManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="citizen") | models.Q(phone__isnull=False),
                name="citizen_has_phone",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def is_citizen(self) -> bool:
        return self.kind == UserKind.CITIZEN

    @property
    def is_county_staff(self) -> bool:
        return self.kind == UserKind.STAFF


class PrivacyConsent(models.Model):
    """A citizen's consent to processing of personal data (Data Protection Act 2019, s. 32).

    Kept as evidence: which notice version they saw, when, and through which channel.
    Withdrawal is recorded, never by deleting the row.
    """

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="consents")
    notice_version = models.CharField(max_length=20)
    given_at = models.DateTimeField()
    channel = models.CharField(max_length=10, default="web")
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-given_at"]

    def __str__(self) -> str:
        return f"{self.user} consented to notice {self.notice_version}"


class CodePurpose(models.TextChoices):
    SIGN_UP = "sign_up", _("Sign up")
    SIGN_IN = "sign_in", _("Sign in")


class SignInCode(models.Model):
    """A 6-digit code sent by SMS, stored only as a keyed hash; 5 minutes, 5 attempts."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    phone = models.CharField(max_length=12, db_index=True)
    purpose = models.CharField(max_length=10, choices=CodePurpose.choices)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"code for {self.phone} ({self.purpose})"


class Role(models.TextChoices):
    REVENUE_OFFICER = "revenue_officer", _("Revenue officer")
    CASHIER = "cashier", _("Cashier")
    APPROVER = "approver", _("Approver")
    INSPECTOR = "inspector", _("Inspector")
    SUPERVISOR = "supervisor", _("Supervisor")
    ICT_OFFICER = "ict_officer", _("ICT officer")
    AUDITOR = "auditor", _("Auditor")
    LAND_OFFICER = "land_officer", _("Land officer")


class RoleAssignment(models.Model):
    """A staff member holds a role in a department (and so in its directorates)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=20, choices=Role.choices)
    granted_at = models.DateTimeField(default=timezone.now)
    granted_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "department", "role"], name="role_assignment_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} is {self.get_role_display()} in {self.department}"


class ApiToken(models.Model):
    """A user's API key (one at most), kept only as its SHA-256 digest: the key is shown
    once, when issued, and a copy of the database holds none that works. A key is 160
    random bits, so a plain digest (no salt, no stretching) cannot be searched back."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="api_token")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"API token of {self.user}"
