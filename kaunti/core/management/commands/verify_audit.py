from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kaunti.core.models import AuditEvent
from kaunti.core.services.audit import find_first_broken_link


class Command(BaseCommand):
    help = "Check every link of the audit chain; name the first broken one."

    def handle(self, *args: Any, **options: Any) -> None:
        broken = find_first_broken_link()
        if broken is not None:
            raise CommandError(f"Audit chain broken at event #{broken.event_id}: {broken.reason}.")
        count = AuditEvent.objects.count()
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {count} events verified."))
