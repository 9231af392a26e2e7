"""The key a command uses: --key-file, else the BACKUP_KEY_FILE setting."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from kaunti.operations.crypto import BackupKeyError, load_key


def key_from(option: str | None) -> bytes:
    path = option or settings.BACKUP_KEY_FILE
    if not path:
        raise CommandError("Give --key-file, or set BACKUP_KEY_FILE to the backup key's path.")
    try:
        return load_key(Path(path).expanduser())
    except BackupKeyError as error:
        raise CommandError(str(error)) from error
