"""Insert many new rows of one model at once, as cheaply as the database allows.

On PostgreSQL the ids are drawn from the table's own sequence in one query and the rows
go in with one `COPY`: no per-row SQL to build, bind or parse, and no `RETURNING` to read
back. Django's `bulk_create` spends most of its time preparing each field of each row in
Python; on the busiest paths (a batch of M-Pesa confirmations writes nine tables) that is
most of the cost of recording a payment. Elsewhere (SQLite) it is `bulk_create`.

Same contract as `bulk_create` without options: the objects get their primary keys, are
marked saved, and no signals are sent. Database triggers and deferred constraints apply
to `COPY` as to `INSERT`.

A few rows (fewer than `COPY_FROM`) go in with `bulk_create`'s one `INSERT ... RETURNING`:
drawing the ids and then copying costs three round trips to the database, and most of a
web request's writes (an audit link, an SMS, a journal entry) are one to four rows.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import attrgetter
from typing import Any, TypeVar

from django.db import connection
from django.db.models import NOT_PROVIDED, DateField, DateTimeField, Field, Model

M = TypeVar("M", bound=Model)
Item = TypeVar("Item")

COPY_FROM = 16  # rows: below this one INSERT is cheaper than drawing ids and a COPY

# Field types whose Python value psycopg writes as the column expects, so the per-value
# preparation Django would do can be skipped. Anything else (JSON, custom fields) goes
# through the field's own `get_db_prep_save`.
_NATIVE_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "DateField",
        "DateTimeField",
        "DecimalField",
        "EmailField",
        "ForeignKey",
        "GenericIPAddressField",
        "IntegerField",
        "OneToOneField",
        "PositiveBigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SlugField",
        "SmallIntegerField",
        "TextField",
        "URLField",
        "UUIDField",
    }
)


# `pre_save` implementations that only read the attribute (DateField's does more, but only
# with `auto_now` or `auto_now_add`, which `_reader` checks).
_PLAIN_PRE_SAVE = (Field.pre_save, DateField.pre_save, DateTimeField.pre_save)


def insert_objects(objects: Iterable[M]) -> list[M]:
    """Insert new (unsaved) instances of one model; returns them with their ids set."""
    rows = list(objects)
    if not rows:
        return rows
    model = type(rows[0])
    meta = model._meta
    pk = meta.auto_field
    if (
        connection.vendor != "postgresql"
        or len(rows) < COPY_FROM
        or pk is None
        or not _copyable(meta.concrete_fields)
    ):
        return model._default_manager.bulk_create(rows)
    fields: list[Field[Any, Any]] = [f for f in meta.concrete_fields if f is not pk]
    for obj in rows:
        # As bulk_create does: take the ids of related objects saved after assignment.
        obj._prepare_related_fields_for_save(operation_name="insert_objects")  # type: ignore[attr-defined]
    with connection.cursor() as cursor:
        ids = _draw_ids(cursor, meta.db_table, pk.column, len(rows))
        columns = ", ".join(connection.ops.quote_name(c) for c in [pk.column, *_columns(fields)])
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        with (
            connection.wrap_database_errors,
            raw.copy(  # a unique violation: IntegrityError
                f"COPY {connection.ops.quote_name(meta.db_table)} ({columns}) FROM STDIN"
            ) as copy,
        ):
            readers = [_reader(field) for field in fields]
            for obj, new_id in zip(rows, ids, strict=True):
                setattr(obj, pk.attname, new_id)
                copy.write_row([new_id, *(read(obj) for read in readers)])
    for obj in rows:
        obj._state.adding = False
        obj._state.db = connection.alias
    return rows


def _copyable(fields: "Sequence[Field[Any, Any]]") -> bool:
    """No column that the database fills in itself (a database default, a generated one)."""
    return all(
        field.db_default is NOT_PROVIDED and not getattr(field, "generated", False)
        for field in fields
    )


def _columns(fields: "Sequence[Field[Any, Any]]") -> list[str]:
    return [field.column for field in fields]


def _reader(field: "Field[Any, Any]") -> Callable[[Model], Any]:
    """How to read the column's value off an object: the attribute itself where that is
    all Django would do, otherwise the field's own `pre_save` and preparation."""
    plain_pre_save = type(field).pre_save in _PLAIN_PRE_SAVE and not (
        getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    )
    native = field.get_internal_type() in _NATIVE_TYPES
    if plain_pre_save and native:
        return attrgetter(field.attname)
    if native:
        return lambda obj: field.pre_save(obj, add=True)
    return lambda obj: field.get_db_prep_save(field.pre_save(obj, add=True), connection)


def _draw_ids(cursor: Any, table: str, column: str, count: int) -> list[int]:
    """`count` ids from the table's own sequence, so later inserts never collide."""
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
        [connection.ops.quote_name(table), column, count],
    )
    return [row[0] for row in cursor.fetchall()]


def update_objects(objects: Sequence[Model], fields: Sequence[str]) -> None:
    """Write `fields` of saved objects of one model back to their rows, in one statement
    on PostgreSQL (`UPDATE ... FROM unnest(...)`); elsewhere one UPDATE per object.

    For the batch paths, where Django's `bulk_update` (a CASE per row and column) would
    cost more than the rest of the batch. No signals, no `auto_now`: the values as set.
    """
    if not objects:
        return
    meta = type(objects[0])._meta
    pk = meta.pk
    assert pk is not None  # every concrete model has one
    columns = [field for field in meta.concrete_fields if field.name in fields]
    if len(columns) != len(fields):
        raise ValueError(
            f"not columns of {meta.label}: {sorted(set(fields) - {c.name for c in columns})}"
        )
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    rows = [
        [
            *(
                column.get_db_prep_save(getattr(obj, column.attname), connection)
                for column in columns
            ),
            obj.pk,
        ]
        for obj in objects
    ]
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            assignments = ", ".join(f"{quote(column.column)} = %s" for column in columns)
            cursor.executemany(
                f"UPDATE {table} SET {assignments} WHERE {quote(pk.column)} = %s",  # noqa: S608
                rows,
            )
            return
        names = [f"v{index}" for index in range(len(columns))]
        arrays = ", ".join(f"%s::{column.db_type(connection)}[]" for column in [*columns, pk])
        assignments = ", ".join(
            f"{quote(column.column)} = v.{name}"
            for column, name in zip(columns, names, strict=True)
        )
        cursor.execute(
            f"UPDATE {table} SET {assignments}"  # noqa: S608
            f" FROM unnest({arrays}) AS v({', '.join(names)}, id)"
            f" WHERE {table}.{quote(pk.column)} = v.id",
            [list(values) for values in zip(*rows, strict=True)],
        )


def batched(items: Sequence[Item], size: int) -> Iterator[Sequence[Item]]:
    """`items` in slices of `size` at most: e.g. values for `__in`, since PostgreSQL takes
    at most 65,535 bound values in a statement (ADR 13)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
