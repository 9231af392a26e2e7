"""Writes the land demo files in this folder (run it again to regenerate them identically):

- `demo_parcels.csv`: ILLUSTRATIVE parcels near Ol Kalou (Karau, Rurii, Kanjuiri Ridge,
  Kaimbaga wards) with owners and small GeoJSON boundaries; the demo loader registers them.
- `legacy_export_sample.csv`: a legacy rates system's export (parcels, owners, opening
  arrears) in the columns `kaunti.land.services.legacy` reads, with a few bad rows so that
  its reject report has something to say.
- `demo_roll_2000.csv`: the 2000 valuation roll's site values (the roll in force in the
  demo); a few parcels are left off it, so the map shows "not on the roll".
- `demo_roll_2026.csv`: a new draft roll to import from the roll page, with a few bad rows
  (unknown parcel, missing value, a repeated parcel, a negative value).

Every name, number, boundary and value is invented. Parcel numbers follow the registry's
form (`NYANDARUA/OL KALOU TOWNSHIP/123`) but are not real titles.

    .venv/bin/python kaunti/land/data/make_demo_data.py
"""

import csv
import json
import math
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 18  # Nyandarua's county code: the same files every time

FIRST_NAMES = [
    "Wanjiku",
    "Kamau",
    "Njeri",
    "Mwangi",
    "Wairimu",
    "Kariuki",
    "Muthoni",
    "Njoroge",
    "Wambui",
    "Gitau",
    "Nyambura",
    "Macharia",
    "Waithera",
    "Kimani",
    "Wangari",
    "Ndungu",
    "Wanjiru",
    "Githinji",
    "Nyokabi",
    "Maina",
    "Mumbi",
    "Waweru",
    "Wangui",
    "Mburu",
    "Njambi",
    "Kinyanjui",
    "Wacera",
    "Gachanja",
    "Nduta",
    "Kiarie",
]
SURNAMES = [
    "Kamau",
    "Mwangi",
    "Njoroge",
    "Kariuki",
    "Gitau",
    "Macharia",
    "Kimani",
    "Ndungu",
    "Githinji",
    "Maina",
    "Waweru",
    "Mburu",
    "Kinyanjui",
    "Gachanja",
    "Kiarie",
    "Wachira",
    "Muriuki",
    "Gathogo",
    "Ngugi",
    "Nderitu",
]
ORGANISATIONS = [
    "Ol Kalou Farmers Co-operative Society",
    "Nyandarua Dairy Traders Ltd",
    "Salient Potato Growers Sacco",
    "Kanjuiri Hardware Ltd",
    "Rurii Self Help Group",
    "Mairo-Inya Produce Ltd",
]

# (registration section, ward code, centre lat, centre lon, count, plot size range in ha,
#  land uses with weights, tenure)
BLOCKS = [
    (
        "OL KALOU TOWNSHIP",
        "0453",
        -0.2715,
        36.3810,
        140,
        (0.04, 0.25),
        {"residential": 6, "commercial": 4, "mixed": 2},
        "leasehold",
    ),
    (
        "OL KALOU SALIENT",
        "0453",
        -0.2450,
        36.4050,
        50,
        (0.8, 6.0),
        {"agricultural": 5, "residential": 2},
        "leasehold",
    ),
    (
        "RURII",
        "0457",
        -0.2450,
        36.3250,
        50,
        (0.5, 5.0),
        {"agricultural": 5, "residential": 3},
        "leasehold",
    ),
    (
        "KANJUIRI",
        "0454",
        -0.3250,
        36.3800,
        40,
        (0.3, 4.0),
        {"agricultural": 4, "residential": 3, "commercial": 1},
        "leasehold",
    ),
    (
        "KAIMBAGA",
        "0456",
        -0.2500,
        36.2450,
        30,
        (0.5, 4.0),
        {"agricultural": 5, "residential": 2},
        "leasehold",
    ),
]
# Per hectare, KES, in 2000 (the old roll) by land use; the 2026 roll is about 6 times it.
VALUE_PER_HECTARE_2000 = {
    "residential": 400_000,
    "commercial": 900_000,
    "mixed": 600_000,
    "agricultural": 60_000,
}
LEGACY_COUNT = 36  # the first parcels of the township come from the legacy export


def _square_ring(
    lat: float, lon: float, hectares: float, angle: float, stretch: float
) -> list[list[float]]:
    """A rectangle of `hectares` centred on (lat, lon), turned by `angle` radians."""
    side_m = math.sqrt(hectares * 10_000)
    width, height = side_m * stretch, side_m / stretch
    metres_per_degree = 111_320.0
    corners = []
    for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        x, y = dx * width / 2, dy * height / 2
        rx = x * math.cos(angle) - y * math.sin(angle)
        ry = x * math.sin(angle) + y * math.cos(angle)
        corners.append(
            [
                round(lon + rx / (metres_per_degree * math.cos(math.radians(lat))), 7),
                round(lat + ry / metres_per_degree, 7),
            ]
        )
    corners.append(corners[0])
    return corners


def _owner(rng: random.Random, used_ids: set[str]) -> dict[str, str]:
    if rng.random() < 0.06:
        pin = f"P05{rng.randrange(10**7):07d}{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}"
        return {
            "kind": "organisation",
            "name": rng.choice(ORGANISATIONS),
            "national_id": "",
            "kra_pin": pin,
        }
    while True:
        national_id = str(rng.randrange(10_000_000, 39_999_999))
        if national_id not in used_ids:
            used_ids.add(national_id)
            break
    name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
    return {"kind": "individual", "name": name, "national_id": national_id, "kra_pin": ""}


def build() -> list[dict[str, str]]:
    rng = random.Random(SEED)  # noqa: S311  (invented demo data, reproducible on purpose)
    used_ids: set[str] = set()
    organisations: dict[str, str] = {}
    parcels = []
    for section, ward, lat0, lon0, count, (low, high), uses, tenure in BLOCKS:
        columns = math.ceil(math.sqrt(count * 1.6))
        spacing_m = math.sqrt(high * 10_000) * 1.15
        number = rng.randrange(100, 900)
        for index in range(count):
            row, column = divmod(index, columns)
            hectares = round(rng.uniform(low, high), 4)
            lat = lat0 - row * spacing_m / 111_320 + rng.uniform(-0.15, 0.15) * spacing_m / 111_320
            lon = (
                lon0
                + column * spacing_m / (111_320 * math.cos(math.radians(lat0)))
                + rng.uniform(-0.15, 0.15) * spacing_m / 111_320
            )
            ring = _square_ring(lat, lon, hectares, rng.uniform(-0.25, 0.25), rng.uniform(0.7, 1.4))
            number += rng.randrange(1, 7)
            land_use = rng.choices(list(uses), weights=list(uses.values()))[0]
            owners = [
                _owner(rng, used_ids)
                for _ in range(3 if rng.random() < 0.08 else 2 if rng.random() < 0.15 else 1)
            ]
            for owner in owners:  # one KRA PIN per organisation, wherever it holds land
                if owner["kind"] == "organisation":
                    owner["kra_pin"] = organisations.setdefault(owner["name"], owner["kra_pin"])
            if len({o["name"] for o in owners}) < len(owners):
                owners = owners[:1]
            shares = ["1/2", "1/2"] if len(owners) == 2 else ["1/3", "1/3", "1/3"]
            recorded = hectares
            if rng.random() < 0.05:  # the registry's figure and the survey disagree
                recorded = round(hectares * rng.choice([0.7, 1.3]), 4)
            parcels.append(
                {
                    "parcel_number": f"NYANDARUA/{section}/{number}",
                    "ward_code": ward,
                    "area_hectares": f"{recorded:.4f}",
                    "land_use": land_use,
                    "tenure": tenure,
                    "zone": "OL KALOU TOWN" if section == "OL KALOU TOWNSHIP" else "",
                    "improvements": rng.choice(
                        ["", "", "Permanent house", "Shop and store", "Timber house", "Fenced"]
                    )
                    if land_use != "agricultural"
                    else rng.choice(["", "Fenced", "Cattle dip"]),
                    "owner_kind": ";".join(o["kind"] for o in owners),
                    "owner_name": ";".join(o["name"] for o in owners),
                    "national_id": ";".join(o["national_id"] for o in owners),
                    "kra_pin": ";".join(o["kra_pin"] for o in owners),
                    "shares": ";".join(shares) if len(owners) > 1 else "",
                    "boundary": json.dumps(
                        {"type": "Polygon", "coordinates": [ring]}, separators=(",", ":")
                    ),
                    "hectares": f"{hectares:.4f}",
                }
            )
    return parcels


def write(parcels: list[dict[str, str]]) -> None:
    rng = random.Random(SEED + 1)  # noqa: S311  (as above)
    parcel_columns = [
        "parcel_number",
        "ward_code",
        "area_hectares",
        "land_use",
        "tenure",
        "zone",
        "improvements",
        "owner_kind",
        "owner_name",
        "national_id",
        "kra_pin",
        "shares",
        "boundary",
    ]
    with (HERE / "demo_parcels.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=parcel_columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(parcels)

    legacy_columns = [
        "parcel_number",
        "ward_code",
        "area_hectares",
        "land_use",
        "tenure",
        "zone",
        "owner_kind",
        "owner_name",
        "national_id",
        "kra_pin",
        "shares",
        "phone",
        "arrears",
    ]
    with (HERE / "legacy_export_sample.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=legacy_columns, extrasaction="ignore")
        writer.writeheader()
        for parcel in parcels[:LEGACY_COUNT]:
            arrears = rng.choice([0, 0, 1200, 2500, 4800, 7350.5, 12000, 18500])
            phone = f"07{rng.randrange(10**8):08d}" if rng.random() < 0.5 else ""
            writer.writerow(
                {**parcel, "arrears": f"{arrears:.2f}" if arrears else "", "phone": phone}
            )
        # Rows a real export has: the reject report names each and why.
        writer.writerow(
            {
                "parcel_number": "",
                "ward_code": "0453",
                "area_hectares": "0.1",
                "land_use": "residential",
                "owner_name": "Unknown",
                "national_id": "12345678",
            }
        )
        writer.writerow(
            {
                "parcel_number": "NYANDARUA/OL KALOU TOWNSHIP/9001",
                "ward_code": "9999",
                "area_hectares": "0.1",
                "land_use": "residential",
                "owner_name": "Peter Maina",
                "national_id": "23456789",
            }
        )
        writer.writerow(
            {
                "parcel_number": "NYANDARUA/OL KALOU TOWNSHIP/9002",
                "ward_code": "0453",
                "area_hectares": "0.1",
                "land_use": "residential",
                "owner_name": "Jane Wanjiru",
                "national_id": "12AB",
            }
        )
        writer.writerow(
            {
                "parcel_number": "NYANDARUA/OL KALOU TOWNSHIP/9003",
                "ward_code": "0453",
                "area_hectares": "0.2",
                "land_use": "residential",
                "owner_name": "John Kimani;Mary Kimani",
                "national_id": "22334455;22334466",
                "shares": "1/2;1/3",
            }
        )
        writer.writerow({**parcels[0], "arrears": ""})  # the first row again

    roll_columns = ["parcel_number", "site_value", "valuation_date"]
    left_off = {parcel["parcel_number"] for parcel in rng.sample(parcels, 14)}
    with (HERE / "demo_roll_2000.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=roll_columns)
        writer.writeheader()
        for parcel in parcels:
            if parcel["parcel_number"] in left_off:
                continue
            value = float(parcel["hectares"]) * VALUE_PER_HECTARE_2000[parcel["land_use"]]
            value = max(5_000, round(value * rng.uniform(0.8, 1.2), -2))
            writer.writerow(
                {
                    "parcel_number": parcel["parcel_number"],
                    "site_value": f"{value:.2f}",
                    "valuation_date": "2000-07-01",
                }
            )
    with (HERE / "demo_roll_2026.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=roll_columns)
        writer.writeheader()
        for parcel in parcels:
            if parcel is parcels[5]:  # written below without its value
                continue
            value = float(parcel["hectares"]) * VALUE_PER_HECTARE_2000[parcel["land_use"]] * 6
            value = max(30_000, round(value * rng.uniform(0.85, 1.25), -3))
            writer.writerow(
                {
                    "parcel_number": parcel["parcel_number"],
                    "site_value": f"{value:.2f}",
                    "valuation_date": "2026-01-15",
                }
            )
        writer.writerow(
            {
                "parcel_number": "NYANDARUA/OL KALOU TOWNSHIP/99999",
                "site_value": "450000",
                "valuation_date": "2026-01-15",
            }
        )
        writer.writerow(
            {
                "parcel_number": parcels[5]["parcel_number"],
                "site_value": "",
                "valuation_date": "2026-01-15",
            }
        )
        writer.writerow(
            {
                "parcel_number": parcels[7]["parcel_number"],
                "site_value": "510000",
                "valuation_date": "2026-01-15",
            }
        )
        writer.writerow(
            {
                "parcel_number": "NYANDARUA/RURII/12",
                "site_value": "-2000",
                "valuation_date": "2026-01-15",
            }
        )


if __name__ == "__main__":
    write(build())
