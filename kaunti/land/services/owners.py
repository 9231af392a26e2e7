"""Owners, joint ownership in shares, transfers as history, and documents on parcels."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from kaunti.core.identifiers import normalise_kra_pin, normalise_national_id, normalise_phone
from kaunti.core.services.audit import record_event
from kaunti.land.models import (
    Owner,
    OwnerKind,
    Ownership,
    Parcel,
    ParcelDocument,
    Transfer,
)

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


@transaction.atomic
def find_or_create_owner(
    *,
    kind: str,
    name: str,
    national_id: str = "",
    kra_pin: str = "",
    phone: str = "",
    actor: Any | None,
) -> Owner:
    """The owner with this national ID (else KRA PIN), created if new.

    An individual needs a national ID or a KRA PIN; an organisation needs its KRA PIN.
    """
    errors: dict[str, list[str]] = {}
    name = " ".join(name.split())
    if not name:
        errors["name"] = [_("Enter the owner's name.")]
    if kind not in OwnerKind.values:
        errors["kind"] = [_("Choose individual or organisation.")]
    cleaned = {"national_id": "", "kra_pin": "", "phone": ""}
    for field, value, check in (
        ("national_id", national_id, normalise_national_id),
        ("kra_pin", kra_pin, normalise_kra_pin),
        ("phone", phone, normalise_phone),
    ):
        if value and value.strip():
            try:
                cleaned[field] = check(value)
            except ValidationError as exc:
                errors[field] = exc.messages
    if kind == OwnerKind.ORGANISATION and not cleaned["kra_pin"] and "kra_pin" not in errors:
        errors["kra_pin"] = [_("Enter the organisation's KRA PIN.")]
    if not cleaned["national_id"] and not cleaned["kra_pin"] and not errors:
        errors["national_id"] = [_("Enter the owner's national ID number or KRA PIN.")]
    if errors:
        raise ValidationError(errors)
    existing = None
    if cleaned["national_id"]:
        existing = Owner.objects.filter(national_id=cleaned["national_id"]).first()
    if existing is None and cleaned["kra_pin"]:
        existing = Owner.objects.filter(kra_pin=cleaned["kra_pin"]).first()
    if existing is not None:
        return existing
    owner = Owner.objects.create(kind=kind, name=name, **cleaned)
    record_event(actor=actor, action="land.owner_created", target=owner, data={"name": name})
    return owner


@dataclass(frozen=True)
class ShareInput:
    """One owner's share of a parcel, as a fraction (1/1 for a sole owner)."""

    owner: Owner
    numerator: int = 1
    denominator: int = 1


def _check_shares(shares: Sequence[ShareInput]) -> None:
    if not shares:
        raise ValidationError(_("Name at least one owner."), code="shares")
    owners = [share.owner.pk for share in shares]
    if len(set(owners)) != len(owners):
        raise ValidationError(_("Each owner may be named only once."), code="shares")
    total = Fraction(0)
    for share in shares:
        if share.denominator <= 0 or share.numerator <= 0 or share.numerator > share.denominator:
            raise ValidationError(_("Each share must be a fraction above 0."), code="shares")
        total += Fraction(share.numerator, share.denominator)
    if total != 1:
        raise ValidationError(
            _("The owners' shares add up to %(total)s; they must add up to the whole parcel.")
            % {"total": f"{total.numerator}/{total.denominator}"},
            code="shares",
        )


def _open_holdings(
    parcel: Parcel, shares: Sequence[ShareInput], on: date, transfer: Transfer | None
) -> None:
    Ownership.objects.bulk_create(
        Ownership(
            parcel=parcel,
            owner=share.owner,
            share_numerator=share.numerator,
            share_denominator=share.denominator,
            started_on=on,
            started_by=transfer,
        )
        for share in shares
    )


def _shares_data(shares: Sequence[ShareInput]) -> list[list[Any]]:
    return [[s.owner.name, f"{s.numerator}/{s.denominator}"] for s in shares]


@transaction.atomic
def register_first_owners(
    *, parcel: Parcel, shares: Sequence[ShareInput], started_on: date, actor: Any | None
) -> list[Ownership]:
    """Record who holds a parcel that has no owners yet (first registration or cut-over)."""
    _check_shares(shares)
    locked = Parcel.objects.select_for_update().get(pk=parcel.pk)
    if Ownership.objects.filter(parcel=locked, ended_on__isnull=True).exists():
        raise ValidationError(
            _("This parcel already has owners; record a transfer instead."), code="has_owners"
        )
    _open_holdings(locked, shares, started_on, None)
    record_event(
        actor=actor,
        action="land.owners_registered",
        target=locked,
        data={"owners": _shares_data(shares), "on": started_on},
    )
    return list(Ownership.objects.filter(parcel=locked, ended_on__isnull=True))


@transaction.atomic
def record_transfer(
    *,
    parcel: Parcel,
    new_shares: Sequence[ShareInput],
    instrument: str,
    registered_on: date,
    actor: Any | None,
    note: str = "",
) -> Transfer:
    """Record a registered transfer: the current holdings end, the new ones begin.

    Nothing is overwritten: earlier holdings stay, closed by this transfer.
    """
    _check_shares(new_shares)
    instrument = " ".join(instrument.split())
    if not instrument:
        raise ValidationError({"instrument": [_("Enter the transfer instrument's number.")]})
    locked = Parcel.objects.select_for_update().get(pk=parcel.pk)
    current = list(Ownership.objects.filter(parcel=locked, ended_on__isnull=True))
    latest_start = max((holding.started_on for holding in current), default=None)
    if latest_start is not None and registered_on < latest_start:
        raise ValidationError(
            {"registered_on": [_("A transfer cannot be dated before the current owners' start.")]}
        )
    transfer = Transfer.objects.create(
        parcel=locked,
        instrument=instrument[:80],
        registered_on=registered_on,
        note=note.strip()[:255],
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    Ownership.objects.filter(pk__in=[holding.pk for holding in current]).update(
        ended_on=registered_on, ended_by=transfer
    )
    _open_holdings(locked, new_shares, registered_on, transfer)
    record_event(
        actor=actor,
        action="land.transfer_recorded",
        target=locked,
        data={
            "instrument": transfer.instrument,
            "registered_on": registered_on,
            "from": [[h.owner.name, f"{h.share_numerator}/{h.share_denominator}"] for h in current],
            "to": _shares_data(new_shares),
        },
    )
    return transfer


@transaction.atomic
def attach_document(
    *,
    parcel: Parcel,
    title: str,
    upload: UploadedFile,
    actor: Any | None,
    transfer: Transfer | None = None,
) -> ParcelDocument:
    """Attach a document (PDF or image) to a parcel, or to one of its transfers."""
    title = " ".join(title.split())
    if not title:
        raise ValidationError({"title": [_("Give the document a title.")]})
    if transfer is not None and transfer.parcel_id != parcel.pk:
        raise ValidationError(_("That transfer is of another parcel."))
    name = (upload.name or "").lower()
    if not name.endswith((".pdf", ".jpg", ".jpeg", ".png")):
        raise ValidationError({"file": [_("Attach a PDF, JPEG or PNG file.")]})
    if (upload.size or 0) > MAX_DOCUMENT_BYTES:
        raise ValidationError({"file": [_("The file is larger than 10 MB.")]})
    document = ParcelDocument.objects.create(
        parcel=parcel,
        transfer=transfer,
        title=title[:150],
        file=upload,
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    record_event(
        actor=actor,
        action="land.document_attached",
        target=parcel,
        data={"title": document.title, "transfer": transfer.instrument if transfer else ""},
    )
    return document
