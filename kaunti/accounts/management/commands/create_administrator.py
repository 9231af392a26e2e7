import getpass
import os
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kaunti.accounts.models import Role, User
from kaunti.accounts.services import create_staff_user
from kaunti.core.models import Department

PASSWORD_VARIABLE = "KAUNTI_ADMIN_PASSWORD"  # noqa: S105  (the variable's name)


class Command(BaseCommand):
    help = (
        "Create the first administrator: county staff, a superuser (ADR 14), with an "
        "authenticator app (TOTP) for the second factor; prints the secret to add to the "
        "app. Asks for the password, or reads it from KAUNTI_ADMIN_PASSWORD (scripts). "
        "`manage.py createsuperuser` makes a citizen, whom the staff pages refuse."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--full-name", required=True)
        parser.add_argument("--department", default="ict", help="a department's code")
        parser.add_argument("--email", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"]
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A user {username!r} exists already.")
        department = Department.objects.filter(code=options["department"]).first()
        if department is None:
            raise CommandError(
                f"No department {options['department']!r}: run load_reference_data first."
            )
        password = os.environ.get(PASSWORD_VARIABLE) or self._ask_password()
        candidate = User(username=username, full_name=options["full_name"])
        try:
            validate_password(password, user=candidate)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        created = create_staff_user(
            username=username,
            full_name=options["full_name"],
            password=password,
            department=department,
            roles=[str(Role.ICT_OFFICER)],
            created_by=None,
            email=options["email"],
            is_superuser=True,
        )
        self.stdout.write(f"Administrator {username} created in {department.name}.")
        self.stdout.write("Add this to an authenticator app (it is shown once):")
        self.stdout.write(f"  {created.totp_device.config_url}")

    def _ask_password(self) -> str:
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The passwords differ.")
        return first
