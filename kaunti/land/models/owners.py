"""Owners of parcels, their ownerships (shares in time) and the transfers between them."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kaunti.land.models.parcels import Parcel


class OwnerKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    ORGANISATION = "organisation", _("Organisation")


class Owner(models.Model):
    """A person (national ID) or an organisation (KRA PIN) that holds land."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=12, choices=OwnerKind.choices)
    name = models.CharField(max_length=150)
    national_id = models.CharField(max_length=20, blank=True, db_index=True)
    kra_pin = models.CharField(max_length=11, blank=True, db_index=True)
    phone = models.CharField(max_length=12, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(national_id="") | ~Q(kra_pin=""), name="owner_has_identifier"
            ),
            models.UniqueConstraint(
                fields=["national_id"], condition=~Q(national_id=""), name="owner_national_id_once"
            ),
            models.UniqueConstraint(
                fields=["kra_pin"], condition=~Q(kra_pin=""), name="owner_kra_pin_once"
            ),
        ]
        indexes = [models.Index(fields=["name"], name="owner_name_idx")]

    def __str__(self) -> str:
        return self.name


class Transfer(models.Model):
    """A change of ownership as registered (instrument and date); history, never overwritten."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    parcel = models.ForeignKey(Parcel, on_delete=models.PROTECT, related_name="transfers")
    instrument = models.CharField(max_length=80, help_text="e.g. the registered instrument no.")
    registered_on = models.DateField()
    note = models.CharField(max_length=255, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-registered_on", "-id"]

    def __str__(self) -> str:
        return f"{self.instrument} ({self.registered_on})"


class Ownership(models.Model):
    """An owner's share of a parcel from one transfer (or first registration) until the next.

    Shares are fractions (`share_numerator/share_denominator`) so that thirds add up to
    exactly one; the current holdings of a parcel are those with no `ended_by`.
    """

    parcel = models.ForeignKey(Parcel, on_delete=models.PROTECT, related_name="ownerships")
    owner = models.ForeignKey(Owner, on_delete=models.PROTECT, related_name="ownerships")
    share_numerator = models.PositiveIntegerField(default=1)
    share_denominator = models.PositiveIntegerField(default=1)
    started_on = models.DateField()
    started_by = models.ForeignKey(
        Transfer, on_delete=models.PROTECT, null=True, blank=True, related_name="new_ownerships"
    )
    ended_on = models.DateField(null=True, blank=True)
    ended_by = models.ForeignKey(
        Transfer, on_delete=models.PROTECT, null=True, blank=True, related_name="ended_ownerships"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(share_numerator__gt=0) & Q(share_numerator__lte=F("share_denominator")),
                name="ownership_share_valid",
            ),
            models.UniqueConstraint(
                fields=["parcel", "owner"],
                condition=Q(ended_by__isnull=True, ended_on__isnull=True),
                name="ownership_current_once",
            ),
        ]
        indexes = [
            models.Index(fields=["parcel", "ended_on"], name="ownership_parcel_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.owner} {self.share_numerator}/{self.share_denominator} of {self.parcel}"
