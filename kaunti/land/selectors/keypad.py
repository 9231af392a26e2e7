"""Parcels found from what a phone user can type: keypad digits only, or the phone's
own registered parcels (USSD and SMS)."""

import re

from django.db.models import (
    Q,
)

from kaunti.land.models import (
    Ownership,
    Parcel,
    ParcelCharge,
    parcel_number_key,
)

_KEYPAD_SEPARATORS = re.compile(r"[*#]")


_DIGIT_GROUPS = re.compile(r"[0-9]+")  # ASCII digits only: a keypad types no others


def find_parcels_typed_on_keypad(*, typed: str, limit: int = 20) -> list[str]:
    """The numbers of the parcels a phone's keypad input may mean, best first (at most
    `limit`).

    A parcel number is county/registration section/number (`NYANDARUA/OL KALOU
    TOWNSHIP/287`), but a keypad has no `/` and letters are slow to type. So `*` and `#`
    stand for `/`; a section typed without its `/` before the number is read with one
    (`OL KALOU TOWNSHIP 287`); and digits alone (`287`, or `2 123` for block 2, parcel
    123) match every parcel whose number ends with those digits, for the caller to choose
    from. Parcel numbers and balances are public; owners are not, and are not read."""
    text = " ".join(_KEYPAD_SEPARATORS.sub("/", typed or "").split())
    if not text or not text.isascii():
        return []
    if any(ch.isalpha() for ch in text):
        keys = [parcel_number_key(text)]
        section, _, last = text.rpartition(" ")
        if "/" not in text and section and last.isdigit():
            keys.append(parcel_number_key(f"{section}/{last}"))
        query = Q()
        for key in keys:
            query |= Q(number_key=key) | Q(number_key__endswith="/" + key)
        return list(
            Parcel.objects.filter(query)
            .order_by("number_key")
            .values_list("number", flat=True)[:limit]
        )
    if not all(ch.isdigit() or ch in " /-" for ch in text):
        return []
    typed_groups = _DIGIT_GROUPS.findall(text)
    if not typed_groups:
        return []
    candidates = Parcel.objects.filter(number_key__endswith="/" + typed_groups[-1]).order_by(
        "number_key"
    )
    found = []
    # Only the last group narrows the query; the rest (block numbers) must end the
    # parcel's own digit groups, so `2 123` is `.../BLOCK 2/123`, not `.../12/123`.
    for number, key in candidates.values_list("number", "number_key")[: limit * 5]:
        groups = _DIGIT_GROUPS.findall(key)
        if groups[-len(typed_groups) :] == typed_groups and key.rsplit("/", 1)[-1].isdigit():
            found.append(number)
    return found[:limit]


def list_parcels_of_phone(*, phone: str, limit: int = 20) -> list[str]:
    """Numbers of the parcels the holder of `phone` (a verified caller's number) holds now
    or is billed for: current owners with that phone, and payers of rates bills sent to
    it. Never matched on a typed ID number, which anyone could type."""
    if not phone:
        return []
    owned = Ownership.objects.filter(ended_on__isnull=True, owner__phone=phone).values("parcel_id")
    billed = ParcelCharge.objects.filter(bill__payer_phone=phone).values("parcel_id")
    return list(
        Parcel.objects.filter(Q(pk__in=owned) | Q(pk__in=billed))
        .order_by("number_key")
        .values_list("number", flat=True)[:limit]
    )
