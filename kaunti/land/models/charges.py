"""Billing runs and the charges they raise: each ties a bill to its parcel and says what it
is for; their unique constraints make the rates and penalty runs idempotent."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kaunti.core.models import Job
from kaunti.land.models.parcels import Parcel
from kaunti.land.models.rolls import ValuationRoll
from kaunti.payments.models import Bill

RATES_SOURCE_TYPE = "land.rates"
# Rates are billed under Lands (the land-rates stream's department) and collected for the
# county by the Revenue Directorate, whose officers run the rates billing: its staff who
# may view bills see rates bills too (registered with payments in `LandConfig.ready`).
RATES_COLLECTING_DEPARTMENT = "revenue"


class RunState(models.TextChoices):
    RUNNING = "running", _("Running")
    FINISHED = "finished", _("Finished")
    FAILED = "failed", _("Failed")


class BillingRun(models.Model):
    """One run of the annual rates billing; it commits its progress after every chunk, so a
    run that stopped half-way is finished by running again (nothing is billed twice)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    financial_year = models.PositiveSmallIntegerField()
    roll = models.ForeignKey(ValuationRoll, on_delete=models.PROTECT, related_name="+")
    job = models.ForeignKey(Job, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    state = models.CharField(max_length=10, choices=RunState.choices, default=RunState.RUNNING)
    total_parcels = models.PositiveIntegerField(default=0)
    last_parcel_id = models.BigIntegerField(default=0)
    bills_created = models.PositiveIntegerField(default=0)
    amount_billed = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    error = models.TextField(blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"rates {self.financial_year}: {self.bills_created} bills ({self.state})"


class ChargeKind(models.TextChoices):
    RATES = "rates", _("Rates")
    PENALTY = "penalty", _("Penalty")
    ARREARS = "arrears", _("Arrears brought forward")


class ParcelCharge(models.Model):
    """A bill raised on a parcel: the year's rates, one month's penalty, or opening arrears.

    The unique constraints make runs idempotent: one rates charge per parcel and year,
    one penalty per parcel and month.
    """

    # No single-column indexes on parcel and run: the unique key (parcel, kind, period)
    # serves lookups by parcel, and every index costs the annual run a million inserts.
    parcel = models.ForeignKey(
        Parcel, on_delete=models.PROTECT, related_name="charges", db_index=False
    )
    kind = models.CharField(max_length=10, choices=ChargeKind.choices)
    financial_year = models.PositiveSmallIntegerField()
    period = models.DateField(help_text="First day of the penalty's month; the year's start else")
    bill = models.OneToOneField(Bill, on_delete=models.PROTECT, related_name="land_charge")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    site_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    run = models.ForeignKey(
        BillingRun,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="charges",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["financial_year", "period", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["parcel", "kind", "period"], name="parcel_charge_once_per_period"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="parcel_charge_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.parcel} {self.kind} {self.period}: {self.amount}"


class LegacyImport(models.Model):
    """The report of one import of parcels, owners and opening arrears from a legacy system."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    file_name = models.CharField(max_length=200)
    total_rows = models.PositiveIntegerField(default=0)
    accepted_count = models.PositiveIntegerField(default=0)
    rejected_rows = models.JSONField(default=list)
    arrears_total = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return f"{self.file_name}: {self.accepted_count} kept, {len(self.rejected_rows)} rejected"
