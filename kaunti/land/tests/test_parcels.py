"""Parcels: registry numbers normalised for search, boundaries checked and measured."""

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from kaunti.core.models import AuditEvent, Ward
from kaunti.land.models import LandUse, Parcel, display_parcel_number, parcel_number_key
from kaunti.land.selectors.parcels import get_parcel_by_number, search_parcels
from kaunti.land.services.parcels import (
    ParcelInput,
    area_differs,
    register_parcel,
    update_parcel,
)

# About 100 m x 100 m near Ol Kalou (0.27 S, 36.38 E): one hectare.
SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [
            [36.38, -0.27],
            [36.380898, -0.27],
            [36.380898, -0.269100],
            [36.38, -0.269100],
            [36.38, -0.27],
        ]
    ],
}


def parcel_input(ward: Ward, **overrides: object) -> ParcelInput:
    values: dict[str, object] = {
        "number": "Nyandarua/Ol Kalou/1234",
        "ward": ward,
        "area_hectares": Decimal("1.0000"),
        "land_use": LandUse.AGRICULTURAL,
    }
    values.update(overrides)
    return ParcelInput(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "typed",
    [
        "nyandarua/ol kalou/1234",
        " NYANDARUA / OL  KALOU / 1234 ",
        "nyandarua-ol kalou-1234",
        "NYANDARUA/OLKALOU/1234",
    ],
)
def test_a_loosely_typed_number_finds_the_parcel(ward: Ward, typed: str) -> None:
    parcel = register_parcel(data=parcel_input(ward), actor=None)

    assert parcel.number == "NYANDARUA/OL KALOU/1234"
    assert get_parcel_by_number(number=typed) == parcel


def test_number_forms() -> None:
    assert display_parcel_number(" nyandarua / ol  kalou-1234") == "NYANDARUA/OL KALOU/1234"
    assert parcel_number_key("NYANDARUA/OL KALOU/1234") == "NYANDARUA/OLKALOU/1234"


def test_the_same_parcel_cannot_be_registered_twice(ward: Ward) -> None:
    register_parcel(data=parcel_input(ward), actor=None)

    with pytest.raises(ValidationError) as error:
        register_parcel(data=parcel_input(ward, number="nyandarua - ol kalou - 1234"), actor=None)

    assert "number" in error.value.message_dict
    assert Parcel.objects.count() == 1


@pytest.mark.parametrize("number", ["1234", "NYANDARUA/OL KALOU/", "NYANDARUA//1234", ""])
def test_numbers_not_in_registry_form_are_refused(ward: Ward, number: str) -> None:
    with pytest.raises(ValidationError):
        register_parcel(data=parcel_input(ward, number=number), actor=None)
    assert not Parcel.objects.exists()


def test_the_boundary_area_is_computed_and_compared(ward: Ward) -> None:
    parcel = register_parcel(data=parcel_input(ward, boundary=SQUARE), actor=None)

    assert parcel.boundary_area_hectares is not None
    assert abs(parcel.boundary_area_hectares - Decimal("1.0000")) < Decimal("0.01")
    assert not area_differs(recorded=parcel.area_hectares, computed=parcel.boundary_area_hectares)
    assert area_differs(recorded=Decimal("2.0"), computed=parcel.boundary_area_hectares)


@pytest.mark.parametrize(
    "boundary",
    [
        {"type": "Point", "coordinates": [36.38, -0.27]},
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},  # bow tie
        {
            "type": "Polygon",
            "coordinates": [
                [[300000, 9970000], [300100, 9970000], [300100, 9970100], [300000, 9970000]]
            ],
        },
        {"type": "Polygon", "coordinates": "nonsense"},
    ],
)
def test_bad_boundaries_are_refused(ward: Ward, boundary: dict[str, object]) -> None:
    with pytest.raises(ValidationError) as error:
        register_parcel(data=parcel_input(ward, boundary=boundary), actor=None)
    assert "boundary" in error.value.message_dict
    assert not Parcel.objects.exists()


def test_search_by_number_owner_or_ward(
    make_parcel: Callable[..., Parcel], make_owner: Callable[..., object], other_ward: Ward
) -> None:
    wanjiku = make_owner(name="Wanjiku Kamau", national_id="12345678")
    first = make_parcel("NYANDARUA/OL KALOU/1", owners=[wanjiku])
    second = make_parcel("NYANDARUA/OL JORO OROK/22")
    third = make_parcel("NYANDARUA/OL JORO OROK/23", parcel_ward=other_ward)

    assert list(search_parcels(query="ol joro")) == [second, third]
    assert list(search_parcels(query="wanjiku")) == [first]
    assert list(search_parcels(query="12345678")) == [first]
    assert list(search_parcels(ward_code=other_ward.code)) == [third]


def test_a_correction_is_audited_with_before_and_after(ward: Ward, other_ward: Ward) -> None:
    parcel = register_parcel(data=parcel_input(ward), actor=None)

    update_parcel(
        parcel=parcel,
        data=parcel_input(other_ward, area_hectares=Decimal("1.5"), land_use=LandUse.RESIDENTIAL),
        actor=None,
    )

    parcel.refresh_from_db()
    assert (parcel.ward, parcel.area_hectares, parcel.land_use) == (
        other_ward,
        Decimal("1.5000"),
        LandUse.RESIDENTIAL,
    )
    event = AuditEvent.objects.get(action="land.parcel_updated")
    assert event.data["changes"]["area_hectares"] == ["1.0000", "1.5000"]
    assert event.data["changes"]["ward"] == [ward.pk, other_ward.pk]
