"""Load geography and departments from the CSV files under `core/data/` (data, not code).

`data/counties.csv` holds the 47 counties; `data/<county code>/wards.csv` and
`data/<county code>/departments.csv` hold the deployment county's own lists. Loading is
idempotent: rows are matched by code and updated, never duplicated.
"""

import csv
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from kaunti.core.models import County, Department, SubCounty, Ward

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class LoadedCounts:
    counties: int
    sub_counties: int
    wards: int
    departments: int


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]


@transaction.atomic
def load_reference_data(*, county_code: str, data_dir: Path = DATA_DIR) -> LoadedCounts:
    """Create or update counties, then this county's sub-counties, wards and departments."""
    for row in _rows(data_dir / "counties.csv"):
        County.objects.update_or_create(code=row["code"], defaults={"name": row["name"]})
    county = County.objects.get(code=county_code)

    county_dir = data_dir / county_code
    sub_counties = 0
    wards = 0
    wards_file = county_dir / "wards.csv"
    if wards_file.exists():
        seen: dict[str, SubCounty] = {}
        for row in _rows(wards_file):
            sub_county = seen.get(row["sub_county_code"])
            if sub_county is None:
                sub_county, _ = SubCounty.objects.update_or_create(
                    county=county, code=row["sub_county_code"], defaults={"name": row["sub_county"]}
                )
                seen[row["sub_county_code"]] = sub_county
            Ward.objects.update_or_create(
                code=row["ward_code"], defaults={"name": row["ward"], "sub_county": sub_county}
            )
            wards += 1
        sub_counties = len(seen)

    departments = 0
    departments_file = county_dir / "departments.csv"
    if departments_file.exists():
        for row in _rows(departments_file):
            parent = Department.objects.get(code=row["parent"]) if row["parent"] else None
            Department.objects.update_or_create(
                code=row["code"],
                defaults={"name": row["name"], "name_sw": row["name_sw"], "parent": parent},
            )
            departments += 1
    return LoadedCounts(County.objects.count(), sub_counties, wards, departments)
