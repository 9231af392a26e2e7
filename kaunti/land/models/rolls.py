"""Valuation rolls: the values rates are charged on, their imports and the objections to them."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kaunti.land.models.owners import Owner
from kaunti.land.models.parcels import Parcel


class RollStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Approved and in force")
    SUPERSEDED = "superseded", _("Superseded")


class ValuationRoll(models.Model):
    """A version of the valuation roll (National Rating Act 2024, Part III): drafted,
    open to objections, approved; the approved one in force is what billing reads."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100)
    valuation_date = models.DateField()
    status = models.CharField(max_length=12, choices=RollStatus.choices, default=RollStatus.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-valuation_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="published"), name="roll_one_in_force"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RollEntry(models.Model):
    """One parcel's site value on a roll, as at its valuation date."""

    roll = models.ForeignKey(ValuationRoll, on_delete=models.PROTECT, related_name="entries")
    parcel = models.ForeignKey(Parcel, on_delete=models.PROTECT, related_name="roll_entries")
    site_value = models.DecimalField(max_digits=14, decimal_places=2)
    valuation_date = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["roll", "parcel"]
        verbose_name_plural = "roll entries"
        constraints = [
            models.UniqueConstraint(fields=["roll", "parcel"], name="roll_entry_once"),
            models.CheckConstraint(condition=Q(site_value__gte=0), name="roll_entry_value_valid"),
        ]
        indexes = [models.Index(fields=["parcel", "roll"], name="roll_entry_parcel_idx")]

    def __str__(self) -> str:
        return f"{self.parcel}: {self.site_value}"


class RollImport(models.Model):
    """The report of one roll import: how many rows were kept and every rejected row, why."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    roll = models.ForeignKey(ValuationRoll, on_delete=models.PROTECT, related_name="imports")
    file_name = models.CharField(max_length=200)
    total_rows = models.PositiveIntegerField(default=0)
    accepted_count = models.PositiveIntegerField(default=0)
    rejected_rows = models.JSONField(default=list, help_text='[{"row": 3, "reason": "..."}]')
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return f"{self.file_name}: {self.accepted_count} kept, {len(self.rejected_rows)} rejected"


class ObjectionStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting decision")
    UPHELD = "upheld", _("Upheld")
    DISMISSED = "dismissed", _("Dismissed")


class Objection(models.Model):
    """An owner's objection to a draft roll entry, and the decision on it (Rating Act 2024)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    entry = models.ForeignKey(RollEntry, on_delete=models.PROTECT, related_name="objections")
    objector_name = models.CharField(max_length=150)
    objector = models.ForeignKey(
        Owner, on_delete=models.PROTECT, null=True, blank=True, related_name="objections"
    )
    grounds = models.TextField()
    proposed_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=ObjectionStatus.choices, default=ObjectionStatus.PENDING
    )
    value_before = models.DecimalField(max_digits=14, decimal_places=2)
    decided_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    lodged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lodged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-lodged_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="pending") | ~Q(decision_reason=""),
                name="objection_decision_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"objection to {self.entry} ({self.status})"
