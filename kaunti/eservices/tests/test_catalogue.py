"""The catalogue as data: loading it, versioning it, and refusing definitions that do not fit."""

import io
import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client

from kaunti.accounts.models import User
from kaunti.conftest import sign_in_staff
from kaunti.core.models import AuditEvent
from kaunti.eservices.definitions.form import group_into_sections
from kaunti.eservices.fees.engine import compute_fees
from kaunti.eservices.models import (
    ComplaintCategory,
    FeeRule,
    FeeSchedule,
    Service,
    ServiceVersion,
    VersionStatus,
)
from kaunti.eservices.selectors.catalogue import (
    get_fee_schedule_in_force,
    get_version_definition,
    list_services,
)
from kaunti.eservices.services.catalogue import (
    create_draft_version,
    publish_service_version,
    save_draft_version,
    save_version_edit,
)
from kaunti.eservices.services.catalogue_data import load_catalogue

pytestmark = pytest.mark.django_db


def catalogue_state() -> tuple[object, ...]:
    return (
        list(
            ServiceVersion.objects.order_by("pk").values_list(
                "service__code", "number", "status", "form"
            )
        ),
        list(Service.objects.order_by("pk").values_list("code", "current_version_id")),
        list(FeeRule.objects.order_by("pk").values_list("code", "parameters")),
        ComplaintCategory.objects.count(),
    )


def test_the_demo_catalogue_loads_seven_services_with_illustrative_fees(catalogue: None) -> None:
    assert list(Service.objects.order_by("order").values_list("code", flat=True)) == [
        "unified-business-permit",
        "building-plan-approval",
        "liquor-licence",
        "food-handler-certificate",
        "livestock-movement-permit",
        "change-of-land-use",
        "rates-clearance-certificate",
    ]
    assert all(s.current_version and s.current_version.number == 1 for s in Service.objects.all())
    assert FeeSchedule.objects.filter(is_illustrative=False).count() == 0
    assert ComplaintCategory.objects.count() == 11


def test_loading_the_catalogue_twice_changes_nothing(catalogue: None) -> None:
    before = catalogue_state()
    result = load_catalogue(county_code=settings.COUNTY_CODE)
    assert result.versions_published == 0
    assert (result.services, result.fee_schedules, result.complaint_categories) == (7, 7, 11)
    assert catalogue_state() == before


@pytest.mark.parametrize(
    ("category", "ward", "expected"),
    [
        ("supermarket", "0462", "165000.00"),
        ("hawker-motorcycle", "0453", "3850.00"),
        ("salon-barber-tailor", "0462", "10000.00"),
        ("boda-fleet", "0441", "6000.00"),
        ("matatu-sacco-large", "0441", "54400.00"),
        ("lpg-depot-existing", "0458", "19800.00"),
        ("lpg-depot-new", "0458", "60000.00"),
        ("small-shop", "0453", "5000.00"),
        ("small-shop", "0462", "3500.00"),
    ],
)
def test_the_business_permit_schedule_has_the_reported_amounts(
    catalogue: None, category: str, ward: str, expected: str
) -> None:
    schedule = get_fee_schedule_in_force(code="business-permit", on_date=date(2026, 2, 2))
    assert schedule is not None
    breakdown = compute_fees(
        schedule=schedule,
        answers={"category": category, "premises_ward": ward, "application_type": "new"},
        on_date=date(2026, 2, 2),
    )
    assert breakdown.total == Decimal(expected)


def test_building_approval_is_charged_per_square_metre(catalogue: None) -> None:
    schedule = get_fee_schedule_in_force(code="building-approval", on_date=date(2026, 2, 2))
    assert schedule is not None
    breakdown = compute_fees(
        schedule=schedule,
        answers={"building_use": "commercial", "floor_area": "420"},
        on_date=date(2026, 2, 2),
    )
    assert [(line.rule_code, line.amount) for line in breakdown.lines] == [
        ("registration", Decimal("2000.00")),
        ("commercial", Decimal("42000.00")),
    ]


def test_no_schedule_is_in_force_before_its_act(catalogue: None) -> None:
    assert get_fee_schedule_in_force(code="business-permit", on_date=date(2024, 6, 30)) is None


def test_an_edit_makes_a_new_version_and_leaves_the_published_one_alone(
    catalogue: None,
) -> None:
    service = Service.objects.get(code="food-handler-certificate")
    published = service.current_version
    assert published is not None
    draft = create_draft_version(
        service=service, actor=None, changes={"validity_months": 12}, change_note="A year now"
    )
    assert (draft.number, draft.status, draft.validity_months) == (2, VersionStatus.DRAFT, 12)
    service.refresh_from_db()
    assert service.current_version == published  # a draft is not used yet
    publish_service_version(version=draft, actor=None)
    service.refresh_from_db()
    published.refresh_from_db()
    assert service.current_version == draft
    assert published.validity_months == 6


def test_a_published_version_cannot_be_saved_over(catalogue: None) -> None:
    version = ServiceVersion.objects.get(service__code="food-handler-certificate", number=1)
    version.validity_months = 99
    before = catalogue_state()
    with pytest.raises(ValidationError, match="never changes"):
        save_draft_version(version=version, actor=None)
    assert catalogue_state() == before


def test_saving_an_edited_published_version_saves_a_new_draft(catalogue: None) -> None:
    version = ServiceVersion.objects.get(service__code="food-handler-certificate", number=1)
    version.validity_months = 12
    draft = save_version_edit(version=version, actor=None)
    assert (draft.number, draft.status, draft.validity_months) == (2, VersionStatus.DRAFT, 12)
    assert ServiceVersion.objects.get(pk=version.pk).validity_months == 6


def test_a_second_draft_is_refused_while_one_is_open(catalogue: None) -> None:
    service = Service.objects.get(code="liquor-licence")
    create_draft_version(service=service, actor=None)
    before = catalogue_state()
    with pytest.raises(ValidationError, match="already has a draft"):
        create_draft_version(service=service, actor=None)
    assert catalogue_state() == before


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"workflow": [{"code": "approval", "kind": "approval", "role": "cashier"}]},
            "workflow",
            "role cashier may not act on a approval step",
        ),
        (
            {"workflow": [{"code": "a", "kind": "review", "role": "approver", "after": ["z"]}]},
            "workflow",
            "waits for a step not listed before it: z",
        ),
        (
            {
                "workflow": [
                    {"code": "a", "kind": "review", "role": "approver", "department": "moon"}
                ]
            },
            "workflow",
            "Unknown department codes in the workflow: moon",
        ),
        ({"form": [{"name": "Bad Name", "type": "text", "label_en": "x"}]}, "form", "lower-case"),
        ({"form": [{"name": "x", "type": "colour", "label_en": "x"}]}, "form", "unknown type"),
        (
            {"documents": [{"kind": "exe", "content_types": ["application/x-msdownload"]}]},
            "documents",
            "PDF, JPEG and PNG",
        ),
        ({"holder_field": "nobody"}, "holder_field", "No form field has this name."),
        (
            {"validity_rule": "months", "validity_months": None},
            "validity_months",
            "Give the number of months.",
        ),
    ],
)
def test_a_definition_that_does_not_fit_is_refused_with_the_field_named(
    catalogue: None, changes: dict[str, object], field: str, message: str
) -> None:
    service = Service.objects.get(code="food-handler-certificate")
    before = catalogue_state()
    with pytest.raises(ValidationError) as raised:
        create_draft_version(service=service, actor=None, changes=changes)
    assert message in " ".join(raised.value.message_dict[field])
    assert catalogue_state() == before


def test_publishing_checks_that_the_fee_schedule_exists(catalogue: None) -> None:
    service = Service.objects.get(code="food-handler-certificate")
    draft = create_draft_version(
        service=service, actor=None, changes={"fee_schedule_code": "no-such"}
    )
    with pytest.raises(ValidationError, match="No fee schedule has this code"):
        publish_service_version(version=draft, actor=None)
    draft.refresh_from_db()
    service.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT
    assert service.current_version is not None
    assert service.current_version.number == 1


def test_the_catalogue_is_searched_in_english_and_kiswahili(catalogue: None) -> None:
    assert [s.code for s in list_services(query="liquor")] == ["liquor-licence"]
    assert [s.code for s in list_services(query="vileo")] == ["liquor-licence"]
    Service.objects.filter(code="liquor-licence").update(is_active=False)
    assert list(list_services(query="vileo")) == []


def test_a_form_is_split_into_short_sections(catalogue: None) -> None:
    version = Service.objects.get(code="unified-business-permit").current_version
    assert version is not None
    definition = get_version_definition(version=version)
    assert [name for name, _fields in group_into_sections(definition.fields)] == [
        "about",
        "business",
        "premises",
        "owner",
        "documents",
    ]
    assert [s.code for s in definition.steps] == [
        "review",
        "inspection-health",
        "inspection-fire",
        "approval",
    ]
    assert definition.steps[3].after == ("inspection-health", "inspection-fire")


def test_an_operator_editing_a_published_version_in_the_admin_gets_a_new_draft(
    catalogue: None, make_staff: Callable[..., User], client: Client
) -> None:
    operator = make_staff(["ict_officer"], department="ict", superuser=True)
    sign_in_staff(client, operator)
    version = ServiceVersion.objects.get(service__code="food-handler-certificate", number=1)
    data = {
        "form": json.dumps(version.form),
        "documents": json.dumps(version.documents),
        "workflow": json.dumps(version.workflow),
        "fee_schedule_code": version.fee_schedule_code,
        "document_kind": version.document_kind,
        "document_prefix": version.document_prefix,
        "validity_rule": version.validity_rule,
        "validity_months": "12",
        "separation_of_duties": "on",
        "is_renewable": "on",
        "holder_field": version.holder_field,
        "document_fields": json.dumps(version.document_fields),
        "sections": json.dumps(version.sections),
        "checks": json.dumps(version.checks),
        "next_year_from": "",
        "change_note": "Certificates last a year",
    }
    response = client.post(f"/admin/eservices/serviceversion/{version.pk}/change/", data)
    assert response.status_code == 302, response.content[:2000]
    version.refresh_from_db()
    assert (version.status, version.validity_months) == (VersionStatus.PUBLISHED, 6)
    draft = ServiceVersion.objects.get(service__code="food-handler-certificate", number=2)
    assert (draft.status, draft.validity_months, draft.change_note) == (
        VersionStatus.DRAFT,
        12,
        "Certificates last a year",
    )
    assert AuditEvent.objects.filter(action="eservices.version_drafted").count() == 1


def test_the_load_catalogue_command_says_what_it_loaded(catalogue: None) -> None:
    output = io.StringIO()
    call_command("load_catalogue", stdout=output)
    lines = output.getvalue().splitlines()
    assert lines[0] == (
        "Catalogue: 7 services (0 versions published), 7 fee schedules with 16 rules, "
        "11 complaint categories."
    )
    # No staff at all yet: every step of every service has nobody to act on it.
    assert lines[1].startswith("Warning: no active officer holds the role")
    assert len(lines) == 2 + 21
    assert lines[2] == "  unified-business-permit: review (approver in trade)"
