"""Valuation rolls: the one in force, entries, imports and objections."""

from typing import Any

from django.db.models import (
    Count,
    Q,
    QuerySet,
)

from kaunti.land.models import (
    Objection,
    ObjectionStatus,
    RollEntry,
    RollImport,
    RollStatus,
    ValuationRoll,
    parcel_number_key,
)


def get_roll_in_force() -> ValuationRoll | None:
    """The approved roll that billing reads, if any."""
    return ValuationRoll.objects.filter(status=RollStatus.PUBLISHED).first()


def list_rolls() -> QuerySet[ValuationRoll]:
    return ValuationRoll.objects.annotate(
        entry_count=Count("entries", distinct=True),
        pending_objections=Count(
            "entries__objections",
            filter=Q(entries__objections__status=ObjectionStatus.PENDING),
            distinct=True,
        ),
    ).order_by("-valuation_date", "-id")


def get_roll(*, public_id: Any) -> ValuationRoll | None:
    return list_rolls().filter(public_id=public_id).first()


def list_roll_entries(*, roll: ValuationRoll, query: str = "") -> QuerySet[RollEntry]:
    entries = RollEntry.objects.filter(roll=roll).select_related("parcel", "parcel__ward")
    if query.strip():
        entries = entries.filter(parcel__number_key__contains=parcel_number_key(query))
    return entries.annotate(
        pending_objections=Count("objections", filter=Q(objections__status=ObjectionStatus.PENDING))
    ).order_by("parcel__number_key")


def list_roll_imports(*, roll: ValuationRoll) -> list[RollImport]:
    return list(RollImport.objects.filter(roll=roll).select_related("imported_by"))


def get_roll_import(*, public_id: Any) -> RollImport | None:
    return (
        RollImport.objects.select_related("roll", "imported_by").filter(public_id=public_id).first()
    )


def list_roll_objections(*, roll: ValuationRoll) -> list[Objection]:
    """A roll's objections, those awaiting a decision first."""
    return sorted(
        Objection.objects.filter(entry__roll=roll).select_related(
            "entry", "entry__parcel", "decided_by"
        ),
        key=lambda objection: (objection.status != ObjectionStatus.PENDING, -objection.pk),
    )


def get_objection(*, public_id: Any) -> Objection | None:
    return (
        Objection.objects.select_related("entry", "entry__roll", "entry__parcel")
        .filter(public_id=public_id)
        .first()
    )


def get_roll_entry(*, roll: ValuationRoll, number: str) -> RollEntry | None:
    key = parcel_number_key(number)
    return (
        RollEntry.objects.select_related("roll", "parcel")
        .filter(roll=roll, parcel__number_key=key)
        .first()
    )
