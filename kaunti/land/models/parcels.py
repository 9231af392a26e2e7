"""Parcels as the registry knows them, their documents, and the parcel number's written forms."""

import uuid

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kaunti.core.models import Ward


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
