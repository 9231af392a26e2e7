"""`manage.py apply_land_penalties --month 2027-01`: the month's penalties on rates arrears."""

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kaunti.core.money import format_kes
from kaunti.land.services.penalties import apply_monthly_penalties


class Command(BaseCommand):
    help = "Charge the monthly penalty on unpaid land rates (idempotent per month)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", help="YYYY-MM (default: this month)")

    def handle(self, *args: Any, **options: Any) -> None:
        month: date = timezone.localdate()
        if options["month"]:
            try:
                month = datetime.strptime(options["month"], "%Y-%m").date()
            except ValueError as exc:
                raise CommandError("Give the month as YYYY-MM.") from exc
        try:
            result = apply_monthly_penalties(month=month, actor=None)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        if result.waived:
            self.stdout.write(f"{result.month:%Y-%m}: a waiver campaign covers it; no penalties.")
        else:
            self.stdout.write(
                f"{result.month:%Y-%m}: {result.penalties_charged} penalties, "
                f"{format_kes(result.amount)}"
            )
