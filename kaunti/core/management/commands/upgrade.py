"""`manage.py upgrade`: bring the database and the servers to this code's release, behind
maintenance mode, with a backup first (docs/operations/upgrade.md)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kaunti.core.upgrade.run import Upgrade, UpgradeFailed, UpgradeOptions, UpgradeRefused


class Command(BaseCommand):
    help = (
        "Upgrade to this release: refuse a broken migration history or deployment errors, "
        "maintenance on, backup, migrate, collectstatic, restart, smoke checks, maintenance off."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--plan", action="store_true", help="Print the checks and the plan; change nothing."
        )
        parser.add_argument(
            "--skip-backup", action="store_true", help="Take no backup (see --i-have-a-backup)."
        )
        parser.add_argument(
            "--i-have-a-backup",
            action="store_true",
            dest="have_backup",
            help="With --skip-backup in production: you have taken and checked one yourself.",
        )
        parser.add_argument(
            "--previous-failure-handled",
            action="store_true",
            help="An earlier upgrade failed and you have restored its backup or fixed the cause.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        upgrade = Upgrade(
            out=self.stdout,
            options=UpgradeOptions(
                skip_backup=options["skip_backup"],
                have_backup=options["have_backup"],
                previous_failure_handled=options["previous_failure_handled"],
                plan_only=options["plan"],
            ),
        )
        try:
            upgrade.run()
        except UpgradeRefused as refused:
            raise CommandError(f"Upgrade refused; nothing was changed:\n{refused}") from refused
        except UpgradeFailed as failed:
            raise CommandError(f"Upgrade failed: {failed}") from failed
