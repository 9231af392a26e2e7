"""Uploads are checked by content, capped in size, stored under our own random names, and
handed out only to those who may see the application."""

import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from kaunti.accounts.models import User
from kaunti.core.models import AuditEvent
from kaunti.eservices.models import Application, ApplicationDocument, Service
from kaunti.eservices.selectors.applications import open_application_document
from kaunti.eservices.services.applications import attach_document
from kaunti.eservices.services.workflow import approve_step, record_inspection_result
from kaunti.eservices.tests.conftest import PDF_BYTES, RawUpload, pdf, png, step, stored_files
from kaunti.eservices.tests.factories import DraftFactory

pytestmark = pytest.mark.django_db

WINDOWS_PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


@pytest.fixture
def draft(ubp: Service, citizen: User) -> Application:
    return DraftFactory.create(
        applicant=citizen, service=ubp, answers={"business_name": "Njeri Salon"}
    )


def state(application: Application, media_root: Path) -> tuple[object, ...]:
    application.refresh_from_db()
    return (
        ApplicationDocument.objects.count(),
        application.events.count(),
        AuditEvent.objects.count(),
        application.answers,
        stored_files(media_root),
    )


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile("permit.pdf", WINDOWS_PROGRAM, content_type="application/pdf"),
            "Copy of the owner's national ID: this file is not a JPEG or PDF or PNG file. "
            "We check what is inside the file, not its name",
        ),
        (
            SimpleUploadedFile(
                "big.pdf", PDF_BYTES + b"0" * (2 * 1024 * 1024), content_type="application/pdf"
            ),
            "Copy of the owner's national ID: the file is larger than 2.0\xa0MB. Upload a smaller file.",
        ),
        (
            RawUpload("../../etc/passwd.pdf", PDF_BYTES),
            "The file name '../../etc/passwd.pdf' is not allowed: it may not contain folders",
        ),
        (
            RawUpload("..\\..\\boot.ini.pdf", PDF_BYTES),
            "is not allowed: it may not contain folders",
        ),
        (
            SimpleUploadedFile("empty.pdf", b"", content_type="application/pdf"),
            "Copy of the owner's national ID: the file is empty.",
        ),
    ],
    ids=["executable-renamed-pdf", "oversized", "path-traversal", "windows-traversal", "empty"],
)
def test_a_bad_upload_is_refused_with_a_clear_message_and_nothing_is_stored(
    draft: Application,
    citizen: User,
    media_root: Path,
    upload: SimpleUploadedFile | RawUpload,
    message: str,
) -> None:
    before = state(draft, media_root)
    with pytest.raises(ValidationError) as raised:
        attach_document(application=draft, actor=citizen, kind="id_copy", upload=upload)
    assert list(raised.value.message_dict) == ["id_copy"]
    assert (
        raised.value.message_dict["id_copy"][0].startswith(message)
        or message in raised.value.message_dict["id_copy"][0]
    )
    assert state(draft, media_root) == before
    # what was typed is kept, beside the phone the account holds (filled in on the new draft)
    assert draft.answers == {"business_name": "Njeri Salon", "contact_phone": "254712000111"}


def test_a_good_upload_is_stored_under_a_random_name_with_the_detected_type(
    draft: Application, citizen: User, media_root: Path
) -> None:
    document = attach_document(
        application=draft, actor=citizen, kind="id_copy", upload=png("my id card.pdf")
    )
    assert document.content_type == "image/png"
    assert document.display_name == "my id card.pdf"
    assert re.fullmatch(
        rf"eservices/{draft.reference}/[0-9a-f]{{2}}/[0-9a-f]{{32}}\.png", document.storage_name
    )
    assert stored_files(media_root) == [media_root / document.storage_name]


def test_a_new_upload_of_a_kind_supersedes_the_earlier_one(
    draft: Application, citizen: User
) -> None:
    first = attach_document(application=draft, actor=citizen, kind="id_copy", upload=pdf("one.pdf"))
    second = attach_document(
        application=draft, actor=citizen, kind="id_copy", upload=pdf("two.pdf")
    )
    first.refresh_from_db()
    assert first.superseded_at is not None
    assert second.superseded_at is None


def test_a_document_the_service_does_not_ask_for_is_refused(
    draft: Application, citizen: User, media_root: Path
) -> None:
    before = state(draft, media_root)
    with pytest.raises(ValidationError, match="does not ask for that document"):
        attach_document(application=draft, actor=citizen, kind="passport", upload=pdf())
    assert state(draft, media_root) == before


def test_only_the_applicant_and_staff_who_may_view_get_the_file(
    draft: Application,
    citizen: User,
    other_citizen: User,
    people: dict[str, User],
) -> None:
    document = attach_document(
        application=draft, actor=citizen, kind="id_copy", upload=pdf("id.pdf")
    )
    mine = open_application_document(user=citizen, public_id=document.public_id)
    assert mine is not None
    with mine.open() as handle:
        assert handle.read() == PDF_BYTES
    assert (mine.display_name, mine.content_type, mine.size) == (
        "id.pdf",
        "application/pdf",
        len(PDF_BYTES),
    )
    assert open_application_document(user=other_citizen, public_id=document.public_id) is None
    assert (
        open_application_document(user=people["lands_approver"], public_id=document.public_id)
        is None
    )
    assert (
        open_application_document(user=people["trade_approver"], public_id=document.public_id)
        is not None
    )


def test_an_inspection_photo_that_is_not_an_image_is_refused_and_nothing_changes(
    in_review_ubp: Application, people: dict[str, User], media_root: Path
) -> None:
    approve_step(step=step(in_review_ubp, "review"), actor=people["trade_approver"])
    health = step(in_review_ubp, "inspection-health")
    before = state(in_review_ubp, media_root)
    with pytest.raises(ValidationError) as raised:
        record_inspection_result(
            step=health,
            actor=people["health_inspector"],
            passed=True,
            notes="",
            photos=[png("ok.png"), pdf("report.pdf")],
        )
    assert list(raised.value.message_dict) == ["photos"]
    assert state(in_review_ubp, media_root) == before
    health.refresh_from_db()
    assert health.status == "open"


def test_inspection_photos_are_kept_with_the_step(
    in_review_ubp: Application, people: dict[str, User], media_root: Path
) -> None:
    approve_step(step=step(in_review_ubp, "review"), actor=people["trade_approver"])
    health = step(in_review_ubp, "inspection-health")
    record_inspection_result(
        step=health, actor=people["health_inspector"], passed=True, notes="", photos=[png("a.png")]
    )
    photo = ApplicationDocument.objects.get(step=health)
    assert (photo.kind, photo.uploaded_by) == ("inspection_photo", people["health_inspector"])
    assert (media_root / photo.storage_name).exists()
