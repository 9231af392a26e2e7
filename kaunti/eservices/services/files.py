"""Storing checked uploads through Django's storage API, under names we choose.

The name is random (a UUID) and carries only the extension of the type we detected, so
nothing of the uploader's file name reaches the storage, and a name cannot be guessed.
If the database work that follows fails, the stored files are removed again.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from kaunti.eservices.uploads import CheckedUpload


def store_checked_upload(*, checked: CheckedUpload, folder: str) -> str:
    """Save the content and return the storage name actually used."""
    key = uuid.uuid4().hex
    name = f"eservices/{folder}/{key[:2]}/{key}{checked.extension}"
    return default_storage.save(name, ContentFile(checked.content))


@contextmanager
def removed_unless_completed(stored_names: list[str]) -> Iterator[None]:
    """Delete the files named in `stored_names` if the block does not complete.

    Wrap the storing and the database transaction in it, so a refusal or a database
    error leaves no file behind.
    """
    completed = False
    try:
        yield
        completed = True
    finally:
        if not completed:
            for name in stored_names:
                default_storage.delete(name)
