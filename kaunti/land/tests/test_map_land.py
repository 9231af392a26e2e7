"""The map: its GeoJSON (status per parcel, the bbox filter), the ward outlines, and the
page that loads Leaflet from our own files with tiles only when configured."""

from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.db.models.signals import post_init
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kaunti.core.models import Ward
from kaunti.land.demo import load_land_demo
from kaunti.land.models import LandUse, Parcel
from kaunti.land.selectors.maps import get_parcels_extent
from kaunti.land.services.parcels import ParcelInput, update_parcel
from kaunti.land.tests import test_pages_land as shared
from kaunti.land.tests.factories import ParcelFactory
from kaunti.land.tests.test_pages_land import LandWorld, square
from kaunti.payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db

# The shared fixtures of the land page tests.
land_officer = shared.land_officer
land_world = shared.land_world
staff_client = shared.staff_client


def features(client: Client, **query: str) -> dict[str, dict[str, Any]]:
    response = client.get(reverse("api:land-map"), query)
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    assert body["type"] == "FeatureCollection"
    return {feature["properties"]["number"]: feature for feature in body["features"]}


def test_each_parcel_is_a_feature_with_its_rates_status(
    land_world: LandWorld, land_officer: Client
) -> None:
    found = features(land_officer)

    assert {number: f["properties"]["status"] for number, f in found.items()} == {
        "NYANDARUA/OL KALOU/1001": "arrears",
        "NYANDARUA/OL KALOU/1002": "paid",
        "NYANDARUA/OL KALOU/1003": "not_on_roll",
        "NYANDARUA/ENGINEER/77": "arrears",
    }
    p1 = found["NYANDARUA/OL KALOU/1001"]
    assert p1["type"] == "Feature"
    assert p1["geometry"] == square(36.380, -0.272)
    assert p1["properties"]["balance"] == "1000.00"
    assert p1["properties"]["ward"] == "Karau"
    assert p1["properties"]["url"] == "/staff/land/parcels/NYANDARUA-OLKALOU-1001/"
    assert found["NYANDARUA/ENGINEER/77"]["properties"]["balance"] == "500.00"


def test_the_bbox_keeps_only_the_parcels_in_view(
    land_world: LandWorld, land_officer: Client
) -> None:
    ol_kalou = features(land_officer, bbox="36.37,-0.28,36.39,-0.26")
    corner = features(land_officer, bbox="36.3805,-0.2715,36.3812,-0.2712")
    nowhere = features(land_officer, bbox="35.0,1.0,35.1,1.1")

    assert sorted(ol_kalou) == [
        "NYANDARUA/OL KALOU/1001",
        "NYANDARUA/OL KALOU/1002",
        "NYANDARUA/OL KALOU/1003",
    ]
    assert sorted(corner) == ["NYANDARUA/OL KALOU/1001"]
    assert nowhere == {}


def test_the_ward_filter_keeps_only_that_wards_parcels(
    land_world: LandWorld, land_officer: Client
) -> None:
    assert sorted(features(land_officer, ward="0441")) == ["NYANDARUA/ENGINEER/77"]


@pytest.mark.parametrize("bbox", ["1,2,3", "a,b,c,d", "36.4,-0.2,36.3,-0.1", "200,0,201,1"])
def test_a_malformed_bbox_is_a_problem(
    bbox: str, land_world: LandWorld, land_officer: Client
) -> None:
    response = land_officer.get(reverse("api:land-map"), {"bbox": bbox})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "bbox" in response.json()["errors"]


def test_paying_a_parcels_bill_turns_it_paid_on_the_map(
    land_world: LandWorld, land_officer: Client
) -> None:
    before = features(land_officer)["NYANDARUA/OL KALOU/1001"]["properties"]["status"]

    PaymentFactory.create(
        bill=land_world.bill_p1,
        amount=land_world.bill_p1.total,
        external_ref="LAND-MAP-P1",
        at_counter=True,
    )
    after = features(land_officer)["NYANDARUA/OL KALOU/1001"]["properties"]

    assert before == "arrears"
    assert (after["status"], after["balance"]) == ("paid", "0.00")


def test_a_part_payment_leaves_a_parcel_in_arrears(
    land_world: LandWorld, land_officer: Client
) -> None:
    PaymentFactory.create(
        bill=land_world.bill_p1,
        amount=land_world.bill_p1.total - 1,
        external_ref="LAND-MAP-P1-PART",
        at_counter=True,
    )

    after = features(land_officer)["NYANDARUA/OL KALOU/1001"]["properties"]

    assert (after["status"], after["balance"]) == ("arrears", "1.00")


def test_the_ward_outlines_cover_the_countys_25_wards_and_say_they_are_illustrative(
    land_world: LandWorld, land_officer: Client
) -> None:
    response = land_officer.get(reverse("api:land-ward-outlines"))

    body = response.json()
    assert response.status_code == 200
    assert body["type"] == "FeatureCollection"
    assert body["is_illustrative"] is True
    assert "NOT official" in body["description"]
    county_wards = set(
        Ward.objects.filter(sub_county__county__code=settings.COUNTY_CODE).values_list(
            "code", flat=True
        )
    )
    assert {feature["properties"]["code"] for feature in body["features"]} == county_wards
    assert len(body["features"]) == 25
    assert all(feature["geometry"]["type"] == "Polygon" for feature in body["features"])


def test_the_map_page_loads_leaflet_from_our_files_and_no_tiles_by_default(
    land_world: LandWorld, land_officer: Client
) -> None:
    response = land_officer.get(reverse("land:map"))

    html = response.content.decode()
    assert response.status_code == 200
    assert '<script src="/static/build/leaflet/leaflet.js"></script>' in html
    assert '<script src="/static/land/map.js"></script>' in html
    assert 'data-parcels-url="/api/v1/land/map/"' in html
    assert 'data-wards-url="/api/v1/land/ward-outlines/"' in html
    assert "data-tile-url" not in html
    assert "illustrative" in html
    assert 'id="land-map-list"' in html  # the text alternative
    assert response["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY


def test_a_configured_tile_server_is_drawn_and_allowed_by_the_pages_policy_only(
    land_world: LandWorld, land_officer: Client, settings: Any
) -> None:
    settings.LAND_MAP_TILE_URL = "https://tiles.county.example/{z}/{x}/{y}.png"

    map_page = land_officer.get(reverse("land:map"))
    search_page = land_officer.get(reverse("land:parcel_search"))

    assert 'data-tile-url="https://tiles.county.example/{z}/{x}/{y}.png"' in (
        map_page.content.decode()
    )
    assert (
        "img-src 'self' data: https://tiles.county.example;"
        in (map_page["Content-Security-Policy"])
    )
    assert "tiles.county.example" not in search_page["Content-Security-Policy"]


def test_pages_without_a_map_do_not_load_leaflet(
    land_world: LandWorld, land_officer: Client
) -> None:
    html = land_officer.get(reverse("land:parcel_search")).content.decode()

    assert "leaflet" not in html


def test_the_demo_land_loads_once_and_its_map_shows_every_status(
    price_list: None, land_officer: Client
) -> None:
    first = load_land_demo()
    again = load_land_demo()
    found = features(land_officer)

    assert first.parcels == again.parcels == 310
    assert first.legacy_rejected == 5  # the export's bad rows, each reported
    assert again.legacy_rejected == 0  # not imported twice
    assert first.roll_entries == 296
    assert len(found) == 310
    statuses = [feature["properties"]["status"] for feature in found.values()]
    # 14 parcels are left off the 2000 roll; 2 of them owe legacy arrears all the same.
    assert statuses.count("not_on_roll") == 12
    assert statuses.count("arrears") > 0  # opening arrears from the legacy export
    assert statuses.count("paid") > 200  # on the roll, not billed yet
    assert Parcel.objects.filter(boundary__isnull=True).count() == 0


def test_the_map_opens_on_one_parcel_from_its_page(
    land_world: LandWorld, land_officer: Client
) -> None:
    html = land_officer.get(reverse("land:map"), {"parcel": "NYANDARUA-ENGINEER-77"}).content
    text = html.decode()

    # The parcel's square (36.600 to 36.601, -0.500 to -0.499) with 0.002 degrees around it.
    assert 'data-bbox-west="36.598"' in text
    assert 'data-bbox-north="-0.497"' in text


def test_the_map_page_and_its_legend_speak_kiswahili(
    land_world: LandWorld, land_officer: Client
) -> None:
    land_officer.post(reverse("accounts:switch_language"), {"language": "sw", "next": "/"})
    text = land_officer.get(reverse("land:map")).content.decode()

    assert "Ramani ya vipande kwa hali ya kodi" in text
    assert 'data-label="Hakuna deni"' in text  # the legend map.js reads its labels from
    assert 'data-count-many="Vipande {count} vinaonekana hapa."' in text


def _register(number: str, boundary: dict[str, Any]) -> Parcel:
    return ParcelFactory.create(
        number=number,
        ward=Ward.objects.get(code="0453"),
        area_hectares=Decimal("1.2300"),
        land_use=LandUse.RESIDENTIAL,
        boundary=boundary,
        owners=[],
    )


def test_a_bbox_returns_exactly_the_parcels_touching_it(
    land_world: LandWorld, land_officer: Client
) -> None:
    """The box 36.500..36.510 east, -0.400..-0.390 north: inside, across each edge, on a
    corner, and just outside each side."""
    for number, west, south in (
        ("KARAU/INSIDE/1", 36.504, -0.396),
        ("KARAU/ACROSS WEST/2", 36.4995, -0.396),
        ("KARAU/ACROSS NORTH/3", 36.504, -0.3905),
        ("KARAU/ON CORNER/4", 36.510, -0.390),  # touches the north-east corner only
        ("KARAU/WEST/5", 36.4985, -0.396),  # east edge 36.4995: just west of the box
        ("KARAU/EAST/6", 36.5101, -0.396),
        ("KARAU/SOUTH/7", 36.504, -0.4012),
        ("KARAU/NORTH/8", 36.504, -0.3899),
    ):
        _register(number, square(west, south))

    body = land_officer.get(reverse("api:land-map"), {"bbox": "36.500,-0.400,36.510,-0.390"})

    found = body.json()
    assert [feature["properties"]["number"] for feature in found["features"]] == [
        "KARAU/ACROSS NORTH/3",
        "KARAU/ACROSS WEST/2",
        "KARAU/INSIDE/1",
        "KARAU/ON CORNER/4",
    ]
    assert found["truncated"] is False
    assert found["bbox"] == [36.4995, -0.396, 36.510 + 0.001, -0.390 + 0.001]


def test_a_moved_boundary_moves_the_parcel_on_the_map(
    land_world: LandWorld, land_officer: Client
) -> None:
    p3 = land_world.p3
    update_parcel(
        parcel=p3,
        data=ParcelInput(
            number=p3.number,
            ward=p3.ward,
            area_hectares=p3.area_hectares,
            land_use=p3.land_use,
            boundary=square(36.700, -0.100),
        ),
        actor=None,
    )

    assert "NYANDARUA/OL KALOU/1003" not in features(land_officer, bbox="36.37,-0.28,36.39,-0.26")
    moved = features(land_officer, bbox="36.69,-0.11,36.71,-0.09")
    assert list(moved) == ["NYANDARUA/OL KALOU/1003"]
    assert moved["NYANDARUA/OL KALOU/1003"]["geometry"] == square(36.700, -0.100)


def _map_request_cost(client: Client, bbox: str) -> tuple[int, int, list[str]]:
    """Queries run and parcels read from the database for one map request."""
    loaded: list[Parcel] = []

    def count(sender: type[Parcel], instance: Parcel, **kwargs: Any) -> None:
        loaded.append(instance)

    post_init.connect(count, sender=Parcel)
    try:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("api:land-map"), {"bbox": bbox})
    finally:
        post_init.disconnect(count, sender=Parcel)
    assert response.status_code == 200
    numbers = [feature["properties"]["number"] for feature in response.json()["features"]]
    return len(queries), len(loaded), numbers


def test_parcels_outside_the_bbox_cost_no_queries_and_are_not_read(
    land_world: LandWorld, land_officer: Client
) -> None:
    ol_kalou = "36.37,-0.28,36.39,-0.26"
    in_view = ["NYANDARUA/OL KALOU/1001", "NYANDARUA/OL KALOU/1002", "NYANDARUA/OL KALOU/1003"]
    land_officer.get(reverse("api:land-map"))  # the session and roles, read once

    few = _map_request_cost(land_officer, ol_kalou)
    for index in range(30):
        _register(f"NYANDARUA/KINANGOP/{index + 1}", square(36.60 + index * 0.002, -0.70))
    many = _map_request_cost(land_officer, ol_kalou)

    assert few[2] == many[2] == in_view
    assert many[0] == few[0]
    assert many[1] == few[1] == len(in_view)


def test_the_map_opens_on_the_box_around_every_parcel_with_a_boundary(
    land_world: LandWorld,
) -> None:
    assert get_parcels_extent() == pytest.approx((36.380, -0.500, 36.601, -0.271))

    Parcel.objects.update(boundary=None, min_longitude=None, min_latitude=None,
                          max_longitude=None, max_latitude=None)  # fmt: skip

    assert get_parcels_extent() is None
