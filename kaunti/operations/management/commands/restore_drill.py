import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import environ
from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kaunti.operations import databases
from kaunti.operations.crypto import BackupDamagedError, BackupKeyError
from kaunti.operations.management.commands._keys import key_from
from kaunti.operations.services.restore import restore_backup


class Command(BaseCommand):
    help = (
        "Rehearse a disaster: restore a backup into a fresh database and an empty file "
        "store, time each phase, and check the result against the backup's manifest."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "source", help="A backup file, a directory or s3://bucket/prefix[/name]."
        )
        parser.add_argument("--key-file", help="The backup key (default: BACKUP_KEY_FILE).")
        parser.add_argument(
            "--database-url",
            help="The scratch target (default: <this database>_drill on the same server).",
        )
        parser.add_argument("--keep", action="store_true", help="Leave the scratch target.")
        parser.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1))

    def handle(self, *args: Any, **options: Any) -> None:
        key = key_from(options["key_file"])
        scratch = Path(tempfile.mkdtemp(prefix="kaunti-drill-"))
        current = settings.DATABASES["default"]
        if options["database_url"]:
            target = environ.Env.db_url_config(options["database_url"])
        elif databases.engine_name(current) == "sqlite":
            target = {**current, "NAME": str(scratch / "drill.sqlite3")}
        else:
            target = {**current, "NAME": f"{current['NAME']}_drill_{os.getpid()}"}
        media = scratch / "media"
        started = time.monotonic()
        try:
            try:
                result = restore_backup(
                    source=options["source"],
                    key=key,
                    database=target,
                    storage=FileSystemStorage(location=str(media)),
                    jobs=options["jobs"],
                    progress=lambda message: self.stderr.write(message),
                )
            except (BackupKeyError, BackupDamagedError, databases.RestoreRefusedError) as error:
                raise CommandError(str(error)) from error
            self.stdout.write(f"Drill: {result.location} into {target['NAME']}")
            for phase, seconds in result.timings.items():
                self.stdout.write(f"  {phase}: {seconds:.1f} s")
            manifest_path = scratch / "manifest.json"
            manifest_path.write_text(json.dumps(result.manifest))
            checked = time.monotonic()
            verification = subprocess.run(  # noqa: S603  (our own manage.py)
                [
                    sys.executable,
                    str(settings.BASE_DIR / "manage.py"),
                    "verify_restore",
                    str(manifest_path),
                ],
                env={
                    **os.environ,
                    "DATABASE_URL": databases.database_url(target),
                    "MEDIA_ROOT": str(media),
                },
                capture_output=True,
                text=True,
                check=False,
            )
            self.stdout.write(verification.stdout.rstrip())
            self.stdout.write(f"  verification: {time.monotonic() - checked:.1f} s")
            if verification.returncode != 0:
                raise CommandError(f"Drill FAILED. {verification.stderr.strip()[-2000:]}")
            self.stdout.write(
                self.style.SUCCESS(
                    f"Drill passed: restored and verified in {time.monotonic() - started:.1f} s."
                )
            )
        finally:
            if not options["keep"] and not options["database_url"]:
                databases.drop(target)
            if not options["keep"]:
                shutil.rmtree(scratch, ignore_errors=True)
