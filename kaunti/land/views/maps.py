"""The staff map of parcels coloured by rates status, with ward outlines.

The page itself carries no parcel data: `static/land/map.js` asks the API for the parcels
in view (`api:land-map`) and the ward outlines (`api:land-ward-outlines`). Leaflet is
served from our own static files and loaded on map pages only. Map tiles are drawn only
when `LAND_MAP_TILE_URL` is set; then this page's Content-Security-Policy also allows
images from the tile server (and from nowhere else).
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from kaunti.land.permissions import VIEW_PARCELS
from kaunti.land.selectors.maps import BBox, get_parcels_extent, parcel_extent
from kaunti.land.selectors.parcels import RatesStatus, get_parcel
from kaunti.land.views import land_staff_required

# Ol Kalou, the county headquarters, where the map opens when there are no parcels yet.
DEFAULT_CENTRE = (-0.27, 36.38)


def tile_url() -> str:
    return str(getattr(settings, "LAND_MAP_TILE_URL", "") or "")


def tile_origin(url: str) -> str:
    """`https://tiles.example/{z}/{x}/{y}.png` -> `https://tiles.example` (for the CSP)."""
    parts = urlsplit(url.replace("{s}.", ""))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    host = parts.netloc
    if "{s}" in url:
        host = "*." + host
    return f"{parts.scheme}://{host}"


def with_tile_policy(response: HttpResponse, url: str) -> HttpResponse:
    """Allow images from the configured tile server on this response only."""
    origin = tile_origin(url)
    if origin:
        policy = settings.CONTENT_SECURITY_POLICY.replace(
            "img-src 'self' data:", f"img-src 'self' data: {origin}"
        )
        response["Content-Security-Policy"] = policy
    return response


def _focus(number: str) -> BBox | None:
    """The box around one parcel and its neighbours (`?parcel=` from its page)."""
    parcel = get_parcel(number=number) if number else None
    bounds = parcel_extent(parcel) if parcel else None
    if bounds is None:
        return None
    margin = 0.002  # about 200 m around it
    west, south, east, north = bounds
    return (
        round(west - margin, 6),
        round(south - margin, 6),
        round(east + margin, 6),
        round(north + margin, 6),
    )


@never_cache
@land_staff_required(VIEW_PARCELS)
@require_GET
def parcel_map(request: HttpRequest) -> HttpResponse:
    extent = _focus(str(request.GET.get("parcel", ""))[:120]) or get_parcels_extent()
    url = tile_url()
    response = render(
        request,
        "land/map.html",
        {
            "extent": extent,
            "centre": DEFAULT_CENTRE,
            "tile_url": url if tile_origin(url) else "",
            "tile_attribution": str(getattr(settings, "LAND_MAP_TILE_ATTRIBUTION", "") or ""),
            "statuses": RatesStatus.choices(),
        },
    )
    return with_tile_policy(response, url)


urlpatterns = [
    path("staff/land/map/", parcel_map, name="map"),
]
