from typing import Any

from django.core.management.base import BaseCommand

from kaunti.ledger.services import load_chart_of_accounts


class Command(BaseCommand):
    help = "Load the standard chart of accounts from kaunti/ledger/data/ (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"Chart of accounts: {load_chart_of_accounts()} accounts.")
