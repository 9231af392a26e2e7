import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from kaunti.operations.crypto import generate_key_file
from kaunti.operations.management.commands._keys import key_from
from kaunti.operations.services.backup import take_backup


class Command(BaseCommand):
    help = (
        "Back up the database (one consistent snapshot) and stored files, encrypted with the "
        "operator's key, to a directory or s3://bucket/prefix. The last line printed is the "
        "backup's location."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--to", help="A directory, or s3://bucket/prefix.")
        parser.add_argument("--key-file", help="The backup key (default: BACKUP_KEY_FILE).")
        parser.add_argument(
            "--keep", type=int, help="Then delete all but the newest N backups there."
        )
        parser.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1))
        parser.add_argument("--generate-key", metavar="PATH", help="Write a new key file and stop.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["generate_key"]:
            path = Path(options["generate_key"]).expanduser()
            try:
                identifier = generate_key_file(path)
            except FileExistsError as error:
                raise CommandError(f"{path} exists; a key file is never overwritten.") from error
            self.stdout.write(f"New backup key {identifier} written to {path} (mode 600).")
            self.stdout.write("Keep a copy off this machine: without it no backup can be read.")
            return
        if not options["to"]:
            raise CommandError("Give --to DIRECTORY or --to s3://bucket/prefix.")
        if options["keep"] is not None and options["keep"] < 1:
            raise CommandError("--keep must be at least 1.")
        if connection.in_atomic_block:
            # Its own snapshot (PostgreSQL) or read lock (SQLite) cannot be taken inside a
            # transaction already open: SQLite would wait on its own write lock for ever.
            raise CommandError("A backup cannot be taken inside an open transaction.")
        result = take_backup(
            destination=options["to"],
            key=key_from(options["key_file"]),
            keep=options["keep"],
            jobs=options["jobs"],
            progress=lambda message: self.stderr.write(message),
        )
        manifest = result.manifest
        for phase, seconds in result.timings.items():
            self.stdout.write(f"  {phase}: {seconds:.1f} s")
        self.stdout.write(
            f"  {len(manifest['files'])} files, audit chain head #{manifest['audit_head']['id']}, "
            f"trial balance difference {manifest['trial_balance']['difference']}"
        )
        for name in result.removed:
            self.stdout.write(f"  removed (retention): {name}")
        self.stdout.write(result.location)
