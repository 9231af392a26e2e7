"""The land map: parcels in a bounding box with their rates status, ward outlines and the
register's extent."""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db.models import (
    Count,
    Max,
    Min,
    Q,
)

from kaunti.land.models import (
    Parcel,
)
from kaunti.land.selectors.parcels import RatesStatus, status_of, url_number, with_rates

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


WARD_OUTLINES = DATA_DIR / "ward_outlines.geojson"


MAP_FEATURE_LIMIT = 3000


BBox = tuple[float, float, float, float]


def parse_bbox(raw: str) -> BBox | None:
    """`west,south,east,north` in degrees; None when absent. ValueError when malformed."""
    if not raw:
        return None
    parts = [float(part) for part in raw.split(",")]
    if len(parts) != 4:
        raise ValueError("bbox needs four numbers")
    west, south, east, north = parts
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise ValueError("bbox out of range")
    return west, south, east, north


def parcel_extent(parcel: Parcel) -> BBox | None:
    """The box around a parcel's boundary (stored with it); None without a boundary."""
    west, south = parcel.min_longitude, parcel.min_latitude
    east, north = parcel.max_longitude, parcel.max_latitude
    if west is None or south is None or east is None or north is None:
        return None
    return west, south, east, north


@dataclass(frozen=True)
class MapParcel:
    number: str
    url_number: str
    ward: str
    status: str
    balance: Decimal
    land_use: str
    boundary: dict[str, Any]


@dataclass(frozen=True)
class MapSelection:
    parcels: list[MapParcel]
    truncated: bool
    bounds: BBox | None


def list_map_parcels(
    *, bbox: BBox | None = None, ward_code: str = "", limit: int = MAP_FEATURE_LIMIT
) -> MapSelection:
    """Parcels with a boundary (touching `bbox` if given), with their status, for the map.

    There is no PostGIS: the box is tested by the database against each boundary's
    extent, stored beside it (`min_longitude` ... `max_latitude`, indexed by
    `parcel_extent_idx`), so one query reads the parcels in view and no others.
    """
    parcels = Parcel.objects.filter(min_longitude__isnull=False)
    if bbox is not None:
        west, south, east, north = bbox
        parcels = parcels.filter(
            min_longitude__lte=east,
            max_longitude__gte=west,
            min_latitude__lte=north,
            max_latitude__gte=south,
        )
    if ward_code:
        parcels = parcels.filter(ward__code=ward_code)
    rows = list(with_rates(parcels.select_related("ward")).order_by("number_key")[: limit + 1])
    found = [
        MapParcel(
            number=parcel.number,
            url_number=url_number(parcel),
            ward=parcel.ward.name,
            status=status_of(parcel),
            balance=parcel.balance,  # type: ignore[attr-defined]
            land_use=parcel.land_use,
            boundary=dict(parcel.boundary or {}),
        )
        for parcel in rows[:limit]
    ]
    return MapSelection(parcels=found, truncated=len(rows) > limit, bounds=_extent(rows[:limit]))


def _extent(parcels: Iterable[Parcel]) -> BBox | None:
    """The box around the boundaries of `parcels` (None for none)."""
    boxes = [box for parcel in parcels if (box := parcel_extent(parcel)) is not None]
    if not boxes:
        return None
    return (
        min(box[0] for box in boxes),
        min(box[1] for box in boxes),
        max(box[2] for box in boxes),
        max(box[3] for box in boxes),
    )


def load_ward_outlines() -> dict[str, Any]:
    """The ward outlines drawn on the map (GeoJSON). The demo's are illustrative only: the
    file says so in its `description`; a county replaces it with its own boundaries."""
    outlines: dict[str, Any] = json.loads(WARD_OUTLINES.read_text(encoding="utf-8"))
    return outlines


def get_parcels_extent() -> BBox | None:
    """The box around every parcel with a boundary (where the map opens): one aggregate
    over the stored extents, read from `parcel_extent_idx` alone."""
    box = Parcel.objects.filter(min_longitude__isnull=False).aggregate(
        west=Min("min_longitude"),
        south=Min("min_latitude"),
        east=Max("max_longitude"),
        north=Max("max_latitude"),
    )
    if box["west"] is None:
        return None
    return (box["west"], box["south"], box["east"], box["north"])


def count_parcels_by_status() -> dict[str, int]:
    """How many parcels are paid up, owe rates, or are on no roll (one query)."""
    counts = with_rates(Parcel.objects.all()).aggregate(
        arrears=Count("pk", filter=Q(balance__gt=0)),
        paid=Count("pk", filter=Q(balance__lte=0) & Q(is_on_roll=True)),
        not_on_roll=Count("pk", filter=Q(balance__lte=0) & Q(is_on_roll=False)),
    )
    return {status: int(counts[status] or 0) for status, _label in RatesStatus.choices()}
