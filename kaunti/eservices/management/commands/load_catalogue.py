from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from kaunti.eservices.services.catalogue_data import load_catalogue


class Command(BaseCommand):
    help = (
        "Load the county's e-services catalogue (fee schedules, services, complaint categories) "
        "from kaunti/eservices/data/<county>/; safe to run again. Needs load_reference_data and "
        "the price list first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--county", default=settings.COUNTY_CODE)

    def handle(self, *args: Any, **options: Any) -> None:
        result = load_catalogue(county_code=options["county"])
        self.stdout.write(
            f"Catalogue: {result.services} services ({result.versions_published} versions published), "
            f"{result.fee_schedules} fee schedules with {result.fee_rules} rules, "
            f"{result.complaint_categories} complaint categories."
        )
        if result.services_with_pending_drafts:
            self.stdout.write(
                "Left alone (a draft is being edited): "
                + ", ".join(result.services_with_pending_drafts)
            )
        if result.steps_nobody_can_act_on:
            self.stdout.write(
                self.style.WARNING(
                    "Warning: no active officer holds the role these steps need in their "
                    "department, so applications will wait there until one does:"
                )
            )
            for step in result.steps_nobody_can_act_on:
                self.stdout.write(self.style.WARNING(f"  {step}"))
