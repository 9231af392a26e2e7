from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from kaunti.payments.services.price_list import load_price_list


class Command(BaseCommand):
    help = (
        "Load the county's price list (revenue streams and their revenue accounts) from "
        "kaunti/payments/data/; safe to run again. Needs load_reference_data and "
        "load_chart_of_accounts first."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        streams = load_price_list(county_code=settings.COUNTY_CODE)
        self.stdout.write(f"Price list: {streams} revenue streams.")
