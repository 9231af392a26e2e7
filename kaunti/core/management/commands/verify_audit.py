from datetime import UTC
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kaunti.core.models import AuditAnchor, AuditEvent
from kaunti.core.services.audit import (
    STALLED_AFTER,
    find_first_broken_link,
    find_stalled_events,
    read_anchor_lines,
    seal_pending_events,
    stored_anchors,
)


class Command(BaseCommand):
    help = (
        "Seal the events waiting to be sealed, then check every link of the audit chain and "
        "every anchor of its head; name the first that does not verify (ADR 19)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-seal",
            action="store_true",
            help="Check without sealing what is pending (writes nothing).",
        )
        parser.add_argument(
            "--anchors",
            action="append",
            default=[],
            metavar="FILE",
            help="Also check the anchors of this file (a copy kept off the server); repeatable.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        extra: list[tuple[int, str]] = []
        for path in options["anchors"]:
            try:
                extra += read_anchor_lines(Path(path).read_text(errors="replace"))
            except OSError as error:
                raise CommandError(f"Cannot read the anchors file {path}: {error}.") from error
        # Before sealing: an event left unsealed this long means the sequencer has stopped.
        stalled, oldest = find_stalled_events()
        if not options["no_seal"]:
            seal_pending_events()
        broken = find_first_broken_link(anchors=extra)
        if broken is not None:
            where = (
                f"at event #{broken.event_id}" if broken.event_id is not None else "at an anchor"
            )
            raise CommandError(f"Audit chain broken {where}: {broken.reason}.")
        if stalled and oldest is not None:
            minutes = int(STALLED_AFTER.total_seconds() // 60)
            done = "still waiting" if options["no_seal"] else "sealed now"
            when = f"{oldest.occurred_at.astimezone(UTC):%Y-%m-%d %H:%M}"
            raise CommandError(
                f"Audit sealing has stalled: {stalled} events waited more than {minutes} minutes "
                f"to be sealed (the oldest #{oldest.pk}, recorded {when} UTC); {done}. "
                "Is Celery beat running kaunti.core.tasks.seal_audit_events?"
            )
        count = AuditEvent.objects.filter(seq__isnull=False).count()
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {count} events verified."))
        pending = AuditEvent.objects.filter(seq__isnull=True).count()
        if pending:
            self.stdout.write(f"{pending} recent events not sealed yet.")
        recorded, stored = AuditAnchor.objects.count(), len(stored_anchors())
        if recorded or stored or extra:
            given = f", {len(extra)} from the files given" if extra else ""
            self.stdout.write(
                f"Anchors of its head still in the chain: {recorded} recorded, "
                f"{stored} in the stored files{given}."
            )
