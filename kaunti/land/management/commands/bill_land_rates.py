"""`manage.py bill_land_rates --year 2026/27`: raise the year's rates bills, with a bar."""

import sys
import time
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kaunti.core.money import format_kes
from kaunti.land.services import billing
from kaunti.land.services.rating import format_financial_year, parse_financial_year

BAR_WIDTH = 40


class Command(BaseCommand):
    help = "Bill land rates for a financial year (idempotent; resumes a stopped run)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", required=True, help="Financial year, e.g. 2026/27")
        parser.add_argument("--chunk-size", type=int, default=billing.DEFAULT_CHUNK)
        parser.add_argument(
            "--workers",
            type=int,
            default=billing.DEFAULT_WORKERS,
            help="Chunks billed at once on PostgreSQL (one database connection each).",
        )
        parser.add_argument("--quiet-bar", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            year = parse_financial_year(options["year"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        started = time.monotonic()
        show_bar = not options["quiet_bar"]

        def progress(done: int, total: int) -> None:
            if not show_bar:
                return
            filled = BAR_WIDTH * done // total if total else BAR_WIDTH
            elapsed = time.monotonic() - started
            rate = done / elapsed if elapsed > 0 else 0.0
            self.stdout.write(
                f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done:,}/{total:,} parcels"
                f"  {rate:,.0f}/s",
                ending="",
            )
            self.stdout.flush()

        try:
            run = billing.bill_rates(
                financial_year=year,
                actor=None,
                chunk_size=options["chunk_size"],
                on_progress=progress,
                workers=options["workers"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        if show_bar:
            self.stdout.write("")
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Land rates {format_financial_year(year)}: {run.bills_created:,} bills in this run "
            f"({format_kes(run.amount_billed)}), {elapsed:.1f} s"
        )
        sys.stdout.flush()
