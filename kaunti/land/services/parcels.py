"""Registering and correcting parcels, with their boundaries checked by shapely."""

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from shapely.affinity import affine_transform
from shapely.errors import GEOSException
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from kaunti.core.models import Ward
from kaunti.core.services.audit import record_event
from kaunti.land.models import (
    LandUse,
    Parcel,
    Tenure,
    display_parcel_number,
    parcel_number_key,
)

EARTH_RADIUS_M = 6_371_008.8
HECTARE = Decimal("0.0001")
# A boundary whose area differs from the recorded one by more than this is flagged.
AREA_TOLERANCE = Decimal("0.10")
_LAST_PART = re.compile(r"^[A-Z]*\s?[0-9]+[A-Z0-9]*$", re.ASCII)
# The boundary's extent on `Parcel`, in the order shapely's `bounds` gives it.
EXTENT_FIELDS = ("min_longitude", "min_latitude", "max_longitude", "max_latitude")


def validate_parcel_number(raw: str) -> str:
    """Return the registry form of a parcel number, or refuse one that is not in it.

    The form is `REGISTRATION SECTION/.../NUMBER`: at least two parts, the last a number.
    """
    number = display_parcel_number(raw)
    parts = number.split("/")
    if len(parts) < 2 or any(not part for part in parts) or not _LAST_PART.match(parts[-1]):
        raise ValidationError(
            _("Enter the parcel number as the registry writes it, like NYANDARUA/OL KALOU/1234."),
            code="parcel_number",
        )
    return number


def parse_boundary(geojson: Mapping[str, Any]) -> BaseGeometry:
    """Read a GeoJSON Polygon or MultiPolygon (or a Feature of one) in WGS 84; refuse others."""
    geometry = geojson.get("geometry") if geojson.get("type") == "Feature" else geojson
    if not isinstance(geometry, Mapping) or geometry.get("type") not in {
        "Polygon",
        "MultiPolygon",
    }:
        raise ValidationError(_("The boundary must be a GeoJSON polygon."), code="boundary")
    try:
        shaped = shape(geometry)
    except (GEOSException, ValueError, TypeError, KeyError, IndexError) as exc:
        raise ValidationError(_("The boundary is not valid GeoJSON."), code="boundary") from exc
    if shaped.is_empty or not shaped.is_valid:
        raise ValidationError(
            _("The boundary crosses itself or is empty; redraw it."), code="boundary"
        )
    min_x, min_y, max_x, max_y = shaped.bounds
    if min_x < -180 or max_x > 180 or min_y < -90 or max_y > 90:
        raise ValidationError(
            _("The boundary must be in longitude and latitude (WGS 84)."), code="boundary"
        )
    return shaped


def boundary_area_hectares(geometry: BaseGeometry) -> Decimal:
    """The area of a WGS 84 polygon in hectares, on a local equal-area projection.

    A parcel spans metres to a few kilometres, so projecting around its own centroid
    (x scaled by cos(latitude)) is well within a survey's tolerance.
    """
    centroid = geometry.centroid
    metres_per_degree = math.pi * EARTH_RADIUS_M / 180
    x_scale = metres_per_degree * math.cos(math.radians(centroid.y))
    projected = affine_transform(geometry, [x_scale, 0, 0, metres_per_degree, 0, 0])
    return (Decimal(repr(projected.area)) / Decimal(10_000)).quantize(
        HECTARE, rounding=ROUND_HALF_UP
    )


def area_differs(*, recorded: Decimal, computed: Decimal | None) -> bool:
    """True when the boundary's area is more than 10% away from the recorded area."""
    if computed is None or recorded <= 0:
        return False
    return abs(computed - recorded) > recorded * AREA_TOLERANCE


@dataclass(frozen=True)
class ParcelInput:
    number: str
    ward: Ward
    area_hectares: Decimal
    land_use: str
    tenure: str = Tenure.FREEHOLD
    zone: str = ""
    improvements: str = ""
    boundary: Mapping[str, Any] | None = None
    is_rateable: bool = True


def _clean(data: ParcelInput) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    try:
        values["number"] = validate_parcel_number(data.number)
    except ValidationError as exc:
        errors["number"] = exc.messages
    try:
        area = Decimal(str(data.area_hectares)).quantize(HECTARE, rounding=ROUND_HALF_UP)
        if area <= 0:
            raise ValueError
        values["area_hectares"] = area
    except (ArithmeticError, ValueError):
        errors["area_hectares"] = [_("Enter the area in hectares, more than 0.")]
    if data.land_use not in LandUse.values:
        errors["land_use"] = [_("Choose a land use.")]
    if data.tenure not in Tenure.values:
        errors["tenure"] = [_("Choose a tenure.")]
    values["boundary"] = None
    values["boundary_area_hectares"] = None
    values.update(dict.fromkeys(EXTENT_FIELDS))
    if data.boundary:
        try:
            geometry = parse_boundary(data.boundary)
            values["boundary"] = dict(geometry.__geo_interface__)
            values["boundary_area_hectares"] = boundary_area_hectares(geometry)
            # Kept with the boundary, so the map's box is tested by the database.
            values.update(zip(EXTENT_FIELDS, geometry.bounds, strict=True))
        except ValidationError as exc:
            errors["boundary"] = exc.messages
    if errors:
        raise ValidationError(errors)
    values.update(
        ward=data.ward,
        land_use=data.land_use,
        tenure=data.tenure,
        zone=" ".join(data.zone.split()).upper(),
        improvements=data.improvements.strip(),
        is_rateable=data.is_rateable,
    )
    return values


@transaction.atomic
def register_parcel(*, data: ParcelInput, actor: Any | None) -> Parcel:
    """Register a parcel; its number must be new (compared in normalised form)."""
    values = _clean(data)
    key = parcel_number_key(values["number"])
    if Parcel.objects.filter(number_key=key).exists():
        raise ValidationError({"number": [_("A parcel with this number is already registered.")]})
    try:
        with transaction.atomic():
            parcel = Parcel.objects.create(number_key=key, **values)
    except IntegrityError as exc:
        raise ValidationError(
            {"number": [_("A parcel with this number is already registered.")]}
        ) from exc
    record_event(
        actor=actor,
        action="land.parcel_registered",
        target=parcel,
        data={"number": parcel.number, "area_hectares": parcel.area_hectares},
    )
    return parcel


@transaction.atomic
def update_parcel(*, parcel: Parcel, data: ParcelInput, actor: Any | None) -> Parcel:
    """Correct a parcel's particulars; the audit event keeps what changed, from and to."""
    values = _clean(data)
    key = parcel_number_key(values["number"])
    locked = Parcel.objects.select_for_update().get(pk=parcel.pk)
    if key != locked.number_key and Parcel.objects.filter(number_key=key).exists():
        raise ValidationError({"number": [_("A parcel with this number is already registered.")]})
    changes: dict[str, list[Any]] = {}
    values["number_key"] = key
    for field, value in values.items():
        before = getattr(locked, field)
        if field == "ward":
            before, value_id = locked.ward_id, value.pk
            if before != value_id:
                changes["ward"] = [before, value_id]
        elif field not in EXTENT_FIELDS and before != value:  # the extent follows the boundary
            changes[field] = [str(before), str(value)] if field != "boundary" else ["", ""]
        setattr(locked, field, value)
    locked.save()
    if changes:
        record_event(
            actor=actor, action="land.parcel_updated", target=locked, data={"changes": changes}
        )
    return locked
