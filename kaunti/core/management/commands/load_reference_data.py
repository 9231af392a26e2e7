from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from kaunti.core.reference_data import load_reference_data


class Command(BaseCommand):
    help = "Load counties, and this county's sub-counties, wards and departments (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = load_reference_data(county_code=settings.COUNTY_CODE)
        self.stdout.write(
            f"Reference data: {counts.counties} counties, {counts.sub_counties} sub-counties, "
            f"{counts.wards} wards, {counts.departments} departments."
        )
