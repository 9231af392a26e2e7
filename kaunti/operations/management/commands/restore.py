import os
from typing import Any

import environ
from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kaunti.operations.crypto import BackupDamagedError, BackupKeyError
from kaunti.operations.databases import RestoreRefusedError
from kaunti.operations.management.commands._keys import key_from
from kaunti.operations.services.restore import restore_backup


class Command(BaseCommand):
    help = (
        "Restore a backup (a file, the newest in a directory, or s3://...) into an empty "
        "database and its files into storage. Every checksum is checked first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "source", help="A backup file, a directory or s3://bucket/prefix[/name]."
        )
        parser.add_argument("--key-file", help="The backup key (default: BACKUP_KEY_FILE).")
        parser.add_argument("--database-url", help="The target (default: DATABASE_URL's).")
        parser.add_argument("--media-root", help="Restore files here (default: the storage's).")
        parser.add_argument("--force", action="store_true", help="Replace a non-empty target.")
        parser.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1))

    def handle(self, *args: Any, **options: Any) -> None:
        key = key_from(options["key_file"])
        if options["database_url"]:
            database = environ.Env.db_url_config(options["database_url"])
        else:
            database = settings.DATABASES["default"]
        storage = (
            FileSystemStorage(location=options["media_root"])
            if options["media_root"]
            else default_storage
        )
        try:
            result = restore_backup(
                source=options["source"],
                key=key,
                database=database,
                storage=storage,
                force=options["force"],
                jobs=options["jobs"],
                progress=lambda message: self.stderr.write(message),
            )
        except (
            BackupKeyError,
            BackupDamagedError,
            RestoreRefusedError,
            FileNotFoundError,
        ) as error:
            raise CommandError(str(error)) from error
        for phase, seconds in result.timings.items():
            self.stdout.write(f"  {phase}: {seconds:.1f} s")
        manifest = result.manifest
        self.stdout.write(
            f"Restored {result.location} (taken {manifest['taken_at']}, "
            f"code {manifest['code']['commit'][:12] or manifest['code']['version']}) "
            f"into {database['NAME']}."
        )
