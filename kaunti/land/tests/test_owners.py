"""Owners, joint shares that add up to the whole, and transfers kept as history."""

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from kaunti.core.models import AuditEvent
from kaunti.land.models import Owner, Ownership, Parcel, ParcelDocument, Transfer
from kaunti.land.selectors.parcels import current_ownerships, owner_names, ownership_history
from kaunti.land.services.owners import (
    ShareInput,
    attach_document,
    find_or_create_owner,
    record_transfer,
    register_first_owners,
)


def test_an_owner_is_found_again_by_national_id(reference_data: None) -> None:
    first = find_or_create_owner(
        kind="individual", name="Wanjiku Kamau", national_id="12345678", actor=None
    )
    again = find_or_create_owner(
        kind="individual", name="W. Kamau", national_id=" 12345678 ", actor=None
    )

    assert again == first
    assert Owner.objects.count() == 1


def test_an_owner_needs_an_identifier_and_an_organisation_its_kra_pin(reference_data: None) -> None:
    with pytest.raises(ValidationError):
        find_or_create_owner(kind="individual", name="No Id", actor=None)
    with pytest.raises(ValidationError) as error:
        find_or_create_owner(
            kind="organisation", name="Ol Kalou Farmers Co-op", national_id="12345678", actor=None
        )
    assert "kra_pin" in error.value.message_dict
    organisation = find_or_create_owner(
        kind="organisation", name="Ol Kalou Farmers Co-op", kra_pin="P051234567A", actor=None
    )
    assert organisation.kra_pin == "P051234567A"
    assert Owner.objects.count() == 1


def test_joint_shares_must_add_up_to_the_whole(
    make_parcel: Callable[..., Parcel], make_owner: Callable[..., Owner]
) -> None:
    parcel = make_parcel(owners=[])
    a, b, c = make_owner(), make_owner(), make_owner()

    with pytest.raises(ValidationError):
        register_first_owners(
            parcel=parcel,
            shares=[ShareInput(a, 1, 2), ShareInput(b, 1, 3)],
            started_on=date(2020, 1, 1),
            actor=None,
        )
    with pytest.raises(ValidationError):
        register_first_owners(
            parcel=parcel,
            shares=[ShareInput(a, 1, 2), ShareInput(a, 1, 2)],
            started_on=date(2020, 1, 1),
            actor=None,
        )
    assert not Ownership.objects.filter(parcel=parcel).exists()

    register_first_owners(
        parcel=parcel,
        shares=[ShareInput(a, 1, 3), ShareInput(b, 1, 3), ShareInput(c, 1, 3)],
        started_on=date(2020, 1, 1),
        actor=None,
    )
    holdings = current_ownerships(parcel=parcel)
    assert [(h.owner, h.share_numerator, h.share_denominator) for h in holdings] == [
        (a, 1, 3),
        (b, 1, 3),
        (c, 1, 3),
    ]
    assert owner_names(holdings) == f"{a.name} & {b.name} & {c.name}"


def test_a_transfer_closes_the_old_holdings_and_keeps_them(
    make_parcel: Callable[..., Parcel], make_owner: Callable[..., Owner]
) -> None:
    seller = make_owner(name="John Mwangi")
    parcel = make_parcel(owners=[seller])
    buyer_a, buyer_b = make_owner(name="Grace Njeri"), make_owner(name="Peter Kariuki")

    transfer = record_transfer(
        parcel=parcel,
        new_shares=[ShareInput(buyer_a, 3, 4), ShareInput(buyer_b, 1, 4)],
        instrument="IR 4471/2024",
        registered_on=date(2024, 3, 15),
        actor=None,
    )

    assert [h.owner for h in current_ownerships(parcel=parcel)] == [buyer_a, buyer_b]
    history = ownership_history(parcel=parcel)
    assert [(h.owner.name, h.started_on, h.ended_on) for h in history] == [
        ("Grace Njeri", date(2024, 3, 15), None),
        ("Peter Kariuki", date(2024, 3, 15), None),
        ("John Mwangi", date(2020, 1, 1), date(2024, 3, 15)),
    ]
    assert history[2].ended_by == transfer
    event = AuditEvent.objects.get(action="land.transfer_recorded")
    assert event.data["from"] == [["John Mwangi", "1/1"]]
    assert event.data["to"] == [["Grace Njeri", "3/4"], ["Peter Kariuki", "1/4"]]


def test_a_transfer_dated_before_the_current_owners_is_refused(
    make_parcel: Callable[..., Parcel], make_owner: Callable[..., Owner]
) -> None:
    parcel = make_parcel()

    with pytest.raises(ValidationError):
        record_transfer(
            parcel=parcel,
            new_shares=[ShareInput(make_owner())],
            instrument="IR 1",
            registered_on=date(2019, 1, 1),
            actor=None,
        )

    assert not Transfer.objects.exists()
    assert len(current_ownerships(parcel=parcel)) == 1


def test_documents_attach_to_a_transfer(
    make_parcel: Callable[..., Parcel],
    make_owner: Callable[..., Owner],
    settings: Any,
    tmp_path: Path,
) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    parcel = make_parcel()
    transfer = record_transfer(
        parcel=parcel,
        new_shares=[ShareInput(make_owner())],
        instrument="IR 9",
        registered_on=date(2025, 1, 1),
        actor=None,
    )

    document = attach_document(
        parcel=parcel,
        transfer=transfer,
        title="Transfer form",
        upload=SimpleUploadedFile(
            "transfer.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf"
        ),
        actor=None,
    )

    assert list(transfer.documents.all()) == [document]
    with pytest.raises(ValidationError):
        attach_document(
            parcel=parcel, title="Script", upload=SimpleUploadedFile("x.exe", b"MZ"), actor=None
        )
    assert ParcelDocument.objects.count() == 1
