from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kaunti.payments.mpesa.client import DarajaError
from kaunti.payments.mpesa.outbound import daraja_client, registered_c2b_urls


class Command(BaseCommand):
    help = "Register this deployment's paybill validation and confirmation URLs with Daraja."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--response-type", default="Completed", choices=["Completed", "Cancelled"]
        )

    def handle(self, *args: Any, **options: Any) -> None:
        confirmation_url, validation_url = registered_c2b_urls()
        try:
            daraja_client().register_c2b_urls(
                confirmation_url=confirmation_url,
                validation_url=validation_url,
                response_type=options["response_type"],
            )
        except DarajaError as exc:
            raise CommandError(f"Daraja refused the registration: {exc}") from exc
        self.stdout.write(f"Registered C2B URLs with {daraja_client().config.base_url}:")
        self.stdout.write(f"  confirmation {confirmation_url}")
        self.stdout.write(f"  validation   {validation_url}")
