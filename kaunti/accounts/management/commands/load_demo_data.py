from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from kaunti.accounts.demo import DEMO_CITIZEN_PHONE, load_demo_people
from kaunti.core.identifiers import as_e164


class Command(BaseCommand):
    help = "Load the demo deployment (reference data, staff per role, a citizen); idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("load_reference_data", stdout=self.stdout)
        sign_ins = load_demo_people()
        self.stdout.write("")
        self.stdout.write("Demo sign-ins (staff: /staff/sign-in/, then the TOTP code;")
        self.stdout.write("  `python manage.py demo_totp <username>` prints a current code):")
        width = max(len(s.username) for s in sign_ins)
        for s in sign_ins:
            self.stdout.write(
                f"  {s.username:<{width}}  password {s.password}  TOTP secret {s.totp_secret}  ({s.roles})"
            )
        sms = "the console" if settings.SMS_BACKEND == "console" else settings.SMS_FILE_PATH
        self.stdout.write(
            f"Demo citizen: sign in at /account/sign-in/ with {as_e164(DEMO_CITIZEN_PHONE)}; the code goes to {sms}."
        )
