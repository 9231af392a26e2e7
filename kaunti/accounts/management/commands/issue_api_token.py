from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kaunti.accounts.models import User
from kaunti.accounts.services import issue_api_token


class Command(BaseCommand):
    help = "Print a new API token for a user (any earlier token stops working)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {options['username']!r}.")
        self.stdout.write(issue_api_token(user=user))
