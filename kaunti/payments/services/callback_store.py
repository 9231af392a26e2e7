"""Keeping what a payment provider sends, exactly as it came, before anything else.

This runs for every callback, before the provider is answered: one plain INSERT. A body
that cannot be read (a NUL byte, nesting deeper than any real callback) is stored already
marked malformed, so no later step tries to read it; bytes that the text column cannot
hold exactly are kept as bytes too.
"""

import logging
import re
import uuid

from django.db import connection
from django.utils import timezone

from kaunti.payments.models import CallbackStatus, InboundCallback

logger = logging.getLogger(__name__)

# What a new callback row is written with (the rest keep their database defaults).
STORED_COLUMNS = frozenset(
    {
        "public_id",
        "kind",
        "reference",
        "body",
        "raw_body",
        "remote_addr",
        "received_at",
        "status",
        "error",
        "attempts",
        "processed_at",
    }
)

# Safaricom's payloads are at most 5 levels deep. A deeper body is kept for review, never
# parsed: Python's JSON reader gives up (RecursionError) somewhere below 1,000 levels.
MAX_CALLBACK_DEPTH = 32
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_NESTING = re.compile(rb"[\[\]{}]")


def _is_nested_too_deep(body: bytes) -> bool:
    """Whether the JSON text `body` opens more than MAX_CALLBACK_DEPTH levels at once."""
    # Fewer brackets in all than the limit (every real callback): no need to look closer.
    if body.count(b"{") + body.count(b"[") <= MAX_CALLBACK_DEPTH:
        return False
    depth = 0
    for bracket in _JSON_NESTING.findall(_JSON_STRING.sub(b"", body)):
        depth += 1 if bracket in (b"{", b"[") else -1
        if depth > MAX_CALLBACK_DEPTH:
            return True
    return False


def _storable(body: bytes) -> tuple[str, bytes | None, str]:
    """The text to keep, the raw bytes when that text cannot hold them exactly, and why the
    body is not to be read ("" when it may be)."""
    try:
        text, raw = body.decode("utf-8"), None
    except UnicodeDecodeError:
        # Read as far as it goes (a name in Latin-1 should not lose a payment); the bytes
        # are kept as well.
        text, raw = body.decode("utf-8", errors="replace"), body
    if "\x00" in text:
        # PostgreSQL refuses NUL in text and jsonb; JSON never carries a raw one.
        return text.replace("\x00", "\ufffd"), body, "the body contains a NUL byte"
    if _is_nested_too_deep(body):
        return text, raw, f"the body is nested more than {MAX_CALLBACK_DEPTH} levels deep"
    return text, raw, ""


def store_callback(
    *,
    kind: str,
    body: bytes,
    remote_addr: str,
    status: str = CallbackStatus.RECEIVED,
    error: str = "",
) -> InboundCallback:
    """Keep a provider's payload exactly as it came: called outside any transaction (as
    the callback views are), the row is committed before anything else happens.

    A body that cannot be read (a NUL byte, nesting deeper than any real callback) is
    stored already marked malformed, so no later step tries to read it.

    One plain INSERT: this runs for every callback Safaricom sends, before it is answered.
    """
    text, raw, problem = _storable(body)
    now = timezone.now()
    if problem and status == CallbackStatus.RECEIVED:
        status, error = CallbackStatus.MALFORMED, problem
        logger.warning("malformed %s callback: %s", kind, problem)
    callback = InboundCallback(
        public_id=uuid.uuid4(),
        kind=kind,
        body=text,
        raw_body=raw,
        remote_addr=remote_addr[:64],
        status=status,
        error=error,
        received_at=now,
        processed_at=None if status == CallbackStatus.RECEIVED else now,
    )
    fields = [
        field for field in InboundCallback._meta.concrete_fields if field.name in STORED_COLUMNS
    ]
    columns = [field.column for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {InboundCallback._meta.db_table} ({', '.join(columns)})"  # noqa: S608
            f" VALUES ({', '.join(['%s'] * len(columns))}) RETURNING id",
            [
                field.get_db_prep_save(getattr(callback, field.attname), connection)
                for field in fields
            ],
        )
        callback.pk = cursor.fetchone()[0]
    callback._state.adding = False
    return callback


def has_unstorable_text(value: object) -> bool:
    """Whether a parsed payload holds a string PostgreSQL cannot store (NUL, a lone
    surrogate), anywhere: it would fail the whole batch that records it."""
    if isinstance(value, str):
        return "\x00" in value or _has_surrogate(value)
    if isinstance(value, dict):
        return any(has_unstorable_text(k) or has_unstorable_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_unstorable_text(item) for item in value)
    return False


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
