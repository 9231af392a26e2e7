"""Parcels, their owners and transfers, valuation rolls, rating rules and rates charges.

Rates are raised as bills through `payments` (source type `land.rates`); a
`ParcelCharge` ties each bill to its parcel and says what it is for (the year's rates,
a month's penalty, arrears brought forward from a legacy system), and its unique
constraints are what make billing and penalty runs idempotent.
Nothing financial is edited or deleted here: a charge stays, its bill may be cancelled
(reversed) in `payments`.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kaunti.core.models import Job, Ward
from kaunti.payments.models import Bill

RATES_SOURCE_TYPE = "land.rates"
# Rates are billed under Lands (the land-rates stream's department) and collected for the
# county by the Revenue Directorate, whose officers run the rates billing: its staff who
# may view bills see rates bills too (registered with payments in `LandConfig.ready`).
RATES_COLLECTING_DEPARTMENT = "revenue"


class LandUse(models.TextChoices):
    AGRICULTURAL = "agricultural", _("Agricultural")
    RESIDENTIAL = "residential", _("Residential")
    COMMERCIAL = "commercial", _("Commercial")
    INDUSTRIAL = "industrial", _("Industrial")
    PUBLIC = "public", _("Public purpose")
    MIXED = "mixed", _("Mixed use")


class Tenure(models.TextChoices):
    FREEHOLD = "freehold", _("Freehold")
    LEASEHOLD = "leasehold", _("Leasehold")
    COMMUNITY = "community", _("Community land")
    PUBLIC = "public", _("Public land")


class Parcel(models.Model):
    """A registered parcel. `number` is the registry form (`NYANDARUA/OL KALOU/1234`);
    `number_key` is the same normalised for search (no spaces inside a part)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(max_length=120)
    number_key = models.CharField(max_length=120, unique=True)
    ward = models.ForeignKey(Ward, on_delete=models.PROTECT, related_name="parcels")
    area_hectares = models.DecimalField(max_digits=12, decimal_places=4)
    boundary_area_hectares = models.DecimalField(
        max_digits=12, decimal_places=4, null=True, blank=True,
        help_text="Computed from the boundary, to compare with the recorded area.",
    )  # fmt: skip
    land_use = models.CharField(max_length=20, choices=LandUse.choices)
    zone = models.CharField(max_length=40, blank=True, help_text="Rating zone, if any.")
    tenure = models.CharField(max_length=20, choices=Tenure.choices, default=Tenure.FREEHOLD)
    improvements = models.TextField(blank=True)
    boundary = models.JSONField(null=True, blank=True, help_text="GeoJSON geometry (WGS 84).")
    # The boundary's extent in degrees, kept with it by `services.parcels`, so that the map's
    # box is tested by the database through an index (there is no PostGIS); null when
    # there is no boundary.
    min_longitude = models.FloatField(null=True, blank=True, editable=False)
    min_latitude = models.FloatField(null=True, blank=True, editable=False)
    max_longitude = models.FloatField(null=True, blank=True, editable=False)
    max_latitude = models.FloatField(null=True, blank=True, editable=False)
    is_rateable = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["number_key"]
        constraints = [
            models.CheckConstraint(condition=Q(area_hectares__gt=0), name="parcel_area_positive"),
            models.CheckConstraint(
                condition=Q(
                    min_longitude__isnull=True,
                    min_latitude__isnull=True,
                    max_longitude__isnull=True,
                    max_latitude__isnull=True,
                )
                | Q(
                    min_longitude__isnull=False,
                    min_latitude__isnull=False,
                    max_longitude__isnull=False,
                    max_latitude__isnull=False,
                    min_longitude__lte=F("max_longitude"),
                    min_latitude__lte=F("max_latitude"),
                ),
                name="parcel_extent_whole_and_ordered",
            ),
        ]
        indexes = [
            models.Index(fields=["ward", "number_key"], name="parcel_ward_idx"),
            # The map's box: a range on the first column, the other three read from the
            # index; parcels without a boundary (most, before the survey) are left out.
            models.Index(
                fields=["min_longitude", "max_longitude", "min_latitude", "max_latitude"],
                condition=Q(min_longitude__isnull=False),
                name="parcel_extent_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.number


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


class ParcelDocument(models.Model):
    """A document attached to a parcel or to one of its transfers (title, transfer form...)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    parcel = models.ForeignKey(Parcel, on_delete=models.PROTECT, related_name="documents")
    transfer = models.ForeignKey(
        Transfer, on_delete=models.PROTECT, null=True, blank=True, related_name="documents"
    )
    title = models.CharField(max_length=150)
    file = models.FileField(upload_to="land/documents/%Y/%m/")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return self.title


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


class RatingYear(models.Model):
    """A financial year's rating terms: when rates fall due and the monthly penalty on
    arrears (National Rating Act 2024 and the county's rating law)."""

    financial_year = models.PositiveSmallIntegerField(
        unique=True, help_text="2026 for July 2026 to June 2027"
    )
    due_on = models.DateField()
    penalty_percent_per_month = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("1.00")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-financial_year"]
        constraints = [
            models.CheckConstraint(
                condition=Q(penalty_percent_per_month__gte=0)
                & Q(penalty_percent_per_month__lte=100),
                name="rating_year_penalty_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.financial_year}/{(self.financial_year + 1) % 100:02d}"


class RatingRule(models.Model):
    """The rate for a year, as a percentage of site value, by land use and/or zone, with a
    minimum charge. Blank land use or zone matches any; the most specific rule wins."""

    rating_year = models.ForeignKey(RatingYear, on_delete=models.PROTECT, related_name="rules")
    land_use = models.CharField(max_length=20, choices=LandUse.choices, blank=True)
    zone = models.CharField(max_length=40, blank=True)
    rate_percent = models.DecimalField(max_digits=7, decimal_places=4)
    minimum_charge = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["rating_year", "land_use", "zone"]
        constraints = [
            models.UniqueConstraint(
                fields=["rating_year", "land_use", "zone"], name="rating_rule_once"
            ),
            models.CheckConstraint(
                condition=Q(rate_percent__gte=0) & Q(rate_percent__lte=100),
                name="rating_rule_rate_valid",
            ),
            models.CheckConstraint(
                condition=Q(minimum_charge__gte=0), name="rating_rule_minimum_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rating_year} {self.land_use or '*'}/{self.zone or '*'}: {self.rate_percent}%"


class WaiverCampaign(models.Model):
    """A period in which no penalties are charged (e.g. waived if paid by 30 June)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=150)
    starts_on = models.DateField()
    ends_on = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="waiver_dates_in_order"
            ),
        ]

    def __str__(self) -> str:
        return self.name


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


def _parcel_number_parts(raw: str) -> list[str]:
    text = (raw or "").upper().replace("\\", "/").replace("-", "/")
    return [" ".join(part.split()) for part in text.split("/")]


def display_parcel_number(raw: str) -> str:
    """`" nyandarua / ol  kalou-1234"` -> `"NYANDARUA/OL KALOU/1234"` (the registry's form)."""
    return "/".join(_parcel_number_parts(raw))


def parcel_number_key(raw: str) -> str:
    """The search key of a parcel number: upper case, `-` read as `/`, no spaces inside a
    part (so `OL KALOU` and `OLKALOU` find the same parcel)."""
    return "/".join(part.replace(" ", "") for part in _parcel_number_parts(raw))
