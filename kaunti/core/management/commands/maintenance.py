"""`manage.py maintenance on|off|status`: close the site for an upgrade, or open it again."""

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kaunti.core import maintenance


class Command(BaseCommand):
    help = (
        "Maintenance mode: `on` answers every request 503 (health checks and M-Pesa "
        "callbacks excepted), `off` opens the site, `status` says which."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["on", "off", "status"])
        parser.add_argument("--reason", default="maintenance", help="Recorded with the flag.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "on":
            state = maintenance.switch_on(reason=options["reason"], by=getpass.getuser())
            self.stdout.write(f"Maintenance is ON since {state.since} ({state.reason}).")
        elif action == "off":
            maintenance.switch_off()
            self.stdout.write("Maintenance is OFF: the site is open.")
        else:
            current = maintenance.current_state()
            if current is None:
                self.stdout.write("Maintenance is OFF: the site is open.")
            else:
                self.stdout.write(
                    f"Maintenance is ON since {current.since} by {current.by or '?'} "
                    f"({current.reason or 'no reason recorded'})."
                )
