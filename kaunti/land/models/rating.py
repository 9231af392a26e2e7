"""A financial year's rating rules and the waiver campaigns on penalties."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from kaunti.land.models.parcels import LandUse


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
