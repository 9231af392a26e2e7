"""`manage.py check_trial_balance`: total debits equal total credits, or a non-zero exit."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kaunti.ledger.selectors import get_trial_balance


class Command(BaseCommand):
    help = "Check that the trial balance is zero: total debits equal total credits."

    def handle(self, *args: Any, **options: Any) -> None:
        balance = get_trial_balance()
        totals = f"debits {balance.total_debit}, credits {balance.total_credit}"
        if not balance.is_balanced:
            raise CommandError(f"Trial balance does not agree: {totals}.")
        self.stdout.write(f"Trial balance agrees: {totals}.")
