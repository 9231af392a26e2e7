"""Fixtures of the e-services tests: the demo catalogue, people by role, files, answers."""

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from kaunti.accounts.models import User
from kaunti.accounts.tests.factories import CitizenFactory
from kaunti.eservices.models import Application, ApplicationStep, Service
from kaunti.eservices.services.applications import (
    submit_application,
)
from kaunti.eservices.services.catalogue_data import load_catalogue
from kaunti.eservices.tests.factories import DraftFactory
from kaunti.ledger.services import load_chart_of_accounts
from kaunti.payments.services.price_list import load_price_list
from kaunti.payments.tests.factories import PaymentFactory

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media_root(tmp_path: Path, settings: Any) -> Path:
    """Uploads go to a folder of this test, so a test can see exactly what was stored."""
    root = tmp_path / "media"
    root.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


@pytest.fixture
def catalogue(reference_data: None) -> None:
    load_chart_of_accounts()
    load_price_list(county_code=settings.COUNTY_CODE)
    load_catalogue(county_code=settings.COUNTY_CODE)


@pytest.fixture
def ubp(catalogue: None) -> Service:
    return Service.objects.get(code="unified-business-permit")


@dataclass
class RawUpload:
    """An upload exactly as a client named it. Django's multipart parser already strips
    folders from names; an API taking a file name in its body would not."""

    name: str | None
    content: bytes

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]:
        size = chunk_size or 64 * 1024
        for start in range(0, len(self.content), size):
            yield self.content[start : start + size]


def pdf(name: str = "document.pdf", content: bytes = PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def png(name: str = "photo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


UBP_ANSWERS = {
    "application_type": "new",
    "business_name": "Mama Njeri Salon",
    "category": "salon-barber-tailor",
    "employees": "3",
    "kra_pin": "A012345678B",
    "premises_ward": "0453",
    "premises_location": "Ol Kalou town, Kenyatta Avenue",
    "owner_national_id": "22334455",
    "contact_phone": "0712 000 111",
}


@pytest.fixture
def other_citizen(db: None) -> User:
    return CitizenFactory.create(phone="254722000999", full_name="Otieno Ouma")


@pytest.fixture
def people(make_staff: Callable[..., User]) -> dict[str, User]:
    """Staff by role and department, as the demo business permit's workflow needs them."""
    return {
        "trade_approver": make_staff(["approver"], department="trade"),
        "second_trade_approver": make_staff(["approver"], department="trade"),
        "health_inspector": make_staff(["inspector"], department="health"),
        "fire_inspector": make_staff(["inspector"], department="public-service"),
        "trade_supervisor": make_staff(["supervisor"], department="trade"),
        "lands_approver": make_staff(["approver"], department="lands"),
        # Holds both roles in trade: separation of duties must stop them doing both.
        "trade_all_rounder": make_staff(["approver", "inspector"], department="trade"),
    }


@pytest.fixture
def draft_ubp(ubp: Service, citizen: User) -> Application:
    """A complete business permit draft, documents attached, not yet submitted."""
    return DraftFactory.create(
        applicant=citizen,
        service=ubp,
        answers=UBP_ANSWERS,
        documents={"id_copy": pdf("id.pdf"), "kra_certificate": pdf("kra.pdf")},
    )


@pytest.fixture
def in_review_ubp(draft_ubp: Application, citizen: User) -> Application:
    """The business permit submitted on a day before 31 March and paid: in review."""
    submitted = submit_application(application=draft_ubp, actor=citizen, on_date=date(2026, 2, 2))
    assert submitted.bill is not None
    PaymentFactory.create(bill=submitted.bill)
    submitted.refresh_from_db()
    return submitted


def step(application: Application, code: str) -> ApplicationStep:
    return application.steps.get(code=code)
