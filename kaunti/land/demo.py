"""Land demo data, loaded by `manage.py load_demo_data` through the domain services.

Idempotent: what exists is left alone. It imports the legacy export sample (parcels,
owners, opening arrears), registers the other demo parcels with their boundaries and
owners, loads and approves the 2000 valuation roll, and sets this financial year's rating
terms and rules. The 2026 draft roll (`data/demo_roll_2026.csv`) is left for a person to
import from the roll pages. All the data is invented (see `data/make_demo_data.py`).
"""

import csv
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from kaunti.core.models import Ward
from kaunti.core.money import financial_year
from kaunti.land.models import LegacyImport, Parcel, RatingYear, ValuationRoll, parcel_number_key
from kaunti.land.services import legacy, owners, parcels, rating, roll

DATA = Path(__file__).resolve().parent / "data"
LEGACY_FILE = "legacy_export_sample.csv"
PARCELS_FILE = "demo_parcels.csv"
ROLL_2000_FILE = "demo_roll_2000.csv"
ROLL_2000_NAME = "Valuation roll 2000"
FIRST_REGISTERED_ON = date(2000, 7, 1)
# Illustrative rates (not Nyandarua's law): % of site value and the minimum, KES.
DEMO_RULES = [
    ("", Decimal("1.50"), Decimal("500")),
    ("commercial", Decimal("2.50"), Decimal("2000")),
    ("agricultural", Decimal("0.50"), Decimal("300")),
]


@dataclass(frozen=True)
class LandDemoSummary:
    parcels: int
    legacy_rejected: int
    roll_entries: int
    financial_year: int


def _shares(row: dict[str, str]) -> list[owners.ShareInput]:
    names = row["owner_name"].split(";")
    kinds = row["owner_kind"].split(";")
    ids = row["national_id"].split(";")
    pins = row["kra_pin"].split(";")
    fractions = row["shares"].split(";") if row["shares"] else ["1/1"]
    shares = []
    for index, name in enumerate(names):
        owner = owners.find_or_create_owner(
            kind=kinds[index],
            name=name,
            national_id=ids[index] if index < len(ids) else "",
            kra_pin=pins[index] if index < len(pins) else "",
            actor=None,
        )
        numerator, denominator = fractions[index].split("/")
        shares.append(owners.ShareInput(owner, int(numerator), int(denominator)))
    return shares


def _parcel_input(row: dict[str, str], ward: Ward) -> parcels.ParcelInput:
    return parcels.ParcelInput(
        number=row["parcel_number"],
        ward=ward,
        area_hectares=Decimal(row["area_hectares"]),
        land_use=row["land_use"],
        tenure=row["tenure"],
        zone=row["zone"],
        improvements=row["improvements"],
        boundary=json.loads(row["boundary"]),
    )


def _load_parcels() -> None:
    wards = {ward.code: ward for ward in Ward.objects.all()}
    with (DATA / PARCELS_FILE).open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            existing = Parcel.objects.filter(number_key=parcel_number_key(row["parcel_number"]))
            parcel = existing.first()
            data = _parcel_input(row, wards[row["ward_code"]])
            with transaction.atomic():
                if parcel is None:
                    parcel = parcels.register_parcel(data=data, actor=None)
                    owners.register_first_owners(
                        parcel=parcel,
                        shares=_shares(row),
                        started_on=FIRST_REGISTERED_ON,
                        actor=None,
                    )
                elif parcel.boundary is None:
                    # Imported from the legacy export, which had no boundaries.
                    parcels.update_parcel(parcel=parcel, data=data, actor=None)


def load_land_demo() -> LandDemoSummary:
    """Load the land demo (idempotent); returns what there is afterwards."""
    legacy_rejected = 0
    if not LegacyImport.objects.filter(file_name=LEGACY_FILE).exists():
        report = legacy.import_legacy_parcels(
            file_name=LEGACY_FILE,
            content=(DATA / LEGACY_FILE).read_bytes(),
            actor=None,
            started_on=date(2019, 7, 1),
        )
        legacy_rejected = len(report.rejected_rows)
    _load_parcels()

    old_roll = ValuationRoll.objects.filter(name=ROLL_2000_NAME).first()
    if old_roll is None:
        old_roll = roll.create_roll(
            name=ROLL_2000_NAME, valuation_date=date(2000, 7, 1), actor=None
        )
        roll.import_roll(
            roll=old_roll,
            file_name=ROLL_2000_FILE,
            content=(DATA / ROLL_2000_FILE).read_bytes(),
            actor=None,
        )
        roll.approve_roll(roll=old_roll, actor=None)

    year = financial_year(timezone.localdate())
    if not RatingYear.objects.filter(financial_year=year).exists():
        rating_year = rating.set_rating_year(
            financial_year=year,
            due_on=date(year + 1, 3, 31),
            penalty_percent_per_month=Decimal("1.00"),
            actor=None,
        )
        for land_use, percent, minimum in DEMO_RULES:
            rating.set_rating_rule(
                rating_year=rating_year,
                land_use=land_use,
                rate_percent=percent,
                minimum_charge=minimum,
                actor=None,
            )
    return LandDemoSummary(
        parcels=Parcel.objects.count(),
        legacy_rejected=legacy_rejected,
        roll_entries=old_roll.entries.count(),
        financial_year=year,
    )
