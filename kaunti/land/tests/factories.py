"""Factories for land: owners, parcels and approved valuation rolls, each made through land's
services (the register keeps its audit trail, ownership shares and roll checks).

Sequences restart at 0 for every test (`kaunti/conftest.py`), so the first parcel of a test
is NYANDARUA/OL KALOU/1001 and its first owner "Owner 1", national ID 20000001.
"""

from datetime import date
from decimal import Decimal
from typing import Any

import factory

from kaunti.core.models import Ward
from kaunti.land.models import LandUse, Owner, OwnerKind, Parcel, ValuationRoll
from kaunti.land.services.owners import ShareInput, find_or_create_owner, register_first_owners
from kaunti.land.services.parcels import ParcelInput, register_parcel
from kaunti.land.services.roll import add_roll_entry, approve_roll, create_roll


class OwnerFactory(factory.Factory[Owner]):
    """An individual with a national ID (or the owner already registered under it)."""

    class Meta:
        model = Owner

    kind = OwnerKind.INDIVIDUAL
    name = factory.Sequence(lambda n: f"Owner {n + 1}")
    national_id = factory.Sequence(lambda n: f"{20000001 + n}")

    @classmethod
    def _create(cls, model_class: type[Owner], *args: Any, **kwargs: Any) -> Owner:
        return find_or_create_owner(actor=None, **kwargs)


class ParcelFactory(factory.Factory[Parcel]):
    """Two hectares of agricultural land in ward 0441, held in equal shares by `owners`
    since 2020 (by default one new owner, registered after the parcel; `owners=[]`: none)."""

    class Meta:
        model = Parcel

    number = factory.Sequence(lambda n: f"NYANDARUA/OL KALOU/{1001 + n}")
    ward = factory.LazyFunction(lambda: Ward.objects.get(code="0441"))
    area_hectares = Decimal("2.0000")
    land_use = LandUse.AGRICULTURAL
    owners: list[Owner] | None = None

    @classmethod
    def _create(cls, model_class: type[Parcel], *args: Any, **kwargs: Any) -> Parcel:
        owners = kwargs.pop("owners")
        parcel = register_parcel(data=ParcelInput(**kwargs), actor=None)
        holders = owners if owners is not None else [OwnerFactory.create()]
        if holders:
            register_first_owners(
                parcel=parcel,
                shares=[ShareInput(owner, 1, len(holders)) for owner in holders],
                started_on=date(2020, 1, 1),
                actor=None,
            )
        return parcel


class ValuationRollFactory(factory.Factory[ValuationRoll]):
    """An approved roll valuing `values` ({parcel: site value}) on 1 January 2026.
    Approving needs the rating year it values for (the `rating_year` fixture)."""

    class Meta:
        model = ValuationRoll

    name = "Valuation roll 2026"
    valuation_date = date(2026, 1, 1)
    values = factory.LazyFunction(dict)

    @classmethod
    def _create(cls, model_class: type[ValuationRoll], *args: Any, **kwargs: Any) -> ValuationRoll:
        values: dict[Parcel, Decimal] = kwargs.pop("values")
        roll = create_roll(actor=None, **kwargs)
        for parcel, site_value in values.items():
            add_roll_entry(
                roll=roll,
                parcel=parcel,
                site_value=site_value,
                valuation_date=kwargs["valuation_date"],
                actor=None,
            )
        return approve_roll(roll=roll, actor=None)
