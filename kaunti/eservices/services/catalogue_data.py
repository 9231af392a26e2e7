"""Loading a county's catalogue from its data files (`eservices/data/<county code>/`).

`fee_schedules.json`, `services.json` and `complaint_categories.json` hold the county's
fee schedules, services and complaint categories. Loading is idempotent: rows are
matched by code and updated, and a service gets a new published version only when its
file describes something different from its current version, so loading twice changes
nothing the second time.
"""

import json
import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kaunti.accounts.models import User
from kaunti.accounts.permissions import department_ids_anyone_may
from kaunti.core.models import Department
from kaunti.core.services.audit import record_event
from kaunti.eservices.definitions.workflow import STEP_ACTIONS, parse_workflow
from kaunti.eservices.models import (
    VERSION_CONTENT_FIELDS,
    ComplaintCategory,
    FeeRule,
    FeeSchedule,
    Service,
    ValidityRule,
    VersionStatus,
)
from kaunti.eservices.services.catalogue import (
    check_fee_rule,
    make_draft_version,
    make_published,
)

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

# What a version holds when its data file leaves a field out (the model's defaults).
VERSION_DEFAULTS: dict[str, Any] = {
    "form": [],
    "documents": [],
    "workflow": [],
    "fee_schedule_code": "",
    "document_prefix": "",
    "validity_rule": ValidityRule.NONE.value,
    "validity_months": None,
    "next_year_from": "",
    "sections": [],
    "checks": [],
    "separation_of_duties": True,
    "is_renewable": False,
    "holder_field": "",
    "document_fields": [],
}


@dataclass(frozen=True)
class CatalogueLoadResult:
    """How many of each were in the files, and what changed."""

    fee_schedules: int
    fee_rules: int
    services: int
    versions_published: int
    complaint_categories: int
    services_with_pending_drafts: list[str] = field(default_factory=list)
    steps_nobody_can_act_on: list[str] = field(default_factory=list)


def _read(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def _date(raw: str | None) -> date | None:
    return date.fromisoformat(raw) if raw else None


def _load_schedules(rows: list[dict[str, Any]]) -> tuple[int, int]:
    rule_count = 0
    for row in rows:
        effective_from = _date(row["effective_from"])
        schedule, _created = FeeSchedule.objects.update_or_create(
            code=row["code"],
            effective_from=effective_from,
            defaults={
                "name": row["name"],
                "finance_act": row["finance_act"],
                "finance_act_sw": row.get("finance_act_sw", ""),
                "effective_to": _date(row.get("effective_to")),
                "is_illustrative": bool(row.get("is_illustrative", False)),
                "notes": row.get("notes", ""),
            },
        )
        schedule.full_clean()
        codes = []
        for rule_row in row["rules"]:
            rule = FeeRule.objects.filter(
                schedule=schedule, code=rule_row["code"]
            ).first() or FeeRule(schedule=schedule, code=rule_row["code"])
            rule.order = rule_row.get("order", 10)
            rule.kind = rule_row["kind"]
            rule.stream_id = rule_row.get("stream") or None
            rule.description_en = rule_row["description_en"]
            rule.description_sw = rule_row.get("description_sw", "")
            rule.parameters = rule_row.get("parameters", {})
            rule.starts_on = _date(rule_row.get("starts_on"))
            rule.ends_on = _date(rule_row.get("ends_on"))
            check_fee_rule(rule)
            rule.full_clean()
            rule.save()
            codes.append(rule.code)
            rule_count += 1
        schedule.rules.exclude(code__in=codes).delete()
    return len(rows), rule_count


def _version_content(raw: dict[str, Any]) -> dict[str, Any]:
    unknown = set(raw) - set(VERSION_CONTENT_FIELDS) - {"change_note"}
    if unknown:
        raise ValidationError(
            _("Unknown version fields in the data: %(names)s")
            % {"names": ", ".join(sorted(unknown))}
        )
    content = {name: raw.get(name, VERSION_DEFAULTS.get(name)) for name in VERSION_CONTENT_FIELDS}
    # Stored JSON comes back through the same encoder, so compare like with like.
    normalised: dict[str, Any] = json.loads(json.dumps(content))
    return normalised


def _load_services(rows: list[dict[str, Any]], actor: User | None) -> tuple[int, int, list[str]]:
    published = 0
    pending: list[str] = []
    for row in rows:
        service, _created = Service.objects.update_or_create(
            code=row["code"],
            defaults={
                "name_en": row["name_en"],
                "name_sw": row.get("name_sw", ""),
                "description_en": row.get("description_en", ""),
                "description_sw": row.get("description_sw", ""),
                "eligibility_en": row.get("eligibility_en", ""),
                "eligibility_sw": row.get("eligibility_sw", ""),
                "department": Department.objects.get(code=row["department"]),
                "is_active": bool(row.get("is_active", True)),
                "order": row.get("order", 100),
            },
        )
        content = _version_content(row["version"])
        current = service.current_version
        if current is not None and json.loads(json.dumps(current.content())) == content:
            continue
        if service.versions.filter(status=VersionStatus.DRAFT).exists():
            pending.append(service.code)  # an operator is editing it: leave their draft be
            continue
        draft = make_draft_version(
            service=service,
            actor=actor,
            content=content,
            change_note=str(row["version"].get("change_note", "Loaded from the catalogue data")),
        )
        make_published(draft, actor)
        published += 1
    return len(rows), published, pending


def _load_categories(rows: list[dict[str, Any]]) -> int:
    for row in rows:
        ComplaintCategory.objects.update_or_create(
            code=row["code"],
            defaults={
                "name_en": row["name_en"],
                "name_sw": row.get("name_sw", ""),
                "department": Department.objects.get(code=row["department"]),
                "sla_hours": row["sla_hours"],
                "is_active": bool(row.get("is_active", True)),
                "order": row.get("order", 100),
            },
        )
    return len(rows)


def find_steps_nobody_can_act_on() -> list[str]:
    """Steps of services taking applications whose department (nor one above it) has no
    active officer with a role that may act on them: an application would wait there for
    ever. Each as "service: step (role in department)"."""
    anyone = {action: department_ids_anyone_may(action) for action in STEP_ACTIONS.values()}
    departments = {department.code: department for department in Department.objects.all()}
    found = []
    services = Service.objects.filter(is_active=True, current_version__isnull=False)
    for service in services.select_related("current_version", "department").order_by("order"):
        version = service.current_version
        for spec in parse_workflow(version.workflow if version else []):
            department = departments.get(spec.department, service.department)
            if department.pk not in anyone[spec.action]:
                found.append(f"{service.code}: {spec.code} ({spec.role} in {department.code})")
    return found


@transaction.atomic
def load_catalogue(
    *, county_code: str, data_dir: Path | None = None, actor: User | None = None
) -> CatalogueLoadResult:
    """Create or update the county's fee schedules, services and complaint categories.

    Needs the reference data (departments, wards) and the price list (revenue streams)
    loaded first. Fee amounts in the demo data are illustrative, and say so.
    """
    folder = (data_dir or DATA_DIR) / county_code
    schedules, rules = _load_schedules(_read(folder / "fee_schedules.json")["schedules"])
    services, published, pending = _load_services(
        _read(folder / "services.json")["services"], actor
    )
    categories = _load_categories(_read(folder / "complaint_categories.json")["categories"])
    result = CatalogueLoadResult(
        fee_schedules=schedules,
        fee_rules=rules,
        services=services,
        versions_published=published,
        complaint_categories=categories,
        services_with_pending_drafts=pending,
        steps_nobody_can_act_on=find_steps_nobody_can_act_on(),
    )
    for step in result.steps_nobody_can_act_on:
        logger.warning("catalogue step nobody can act on: %s", step)
    record_event(
        actor=actor,
        action="eservices.catalogue_loaded",
        target_type="eservices.catalogue",
        target_id=county_code,
        data={
            "fee_schedules": schedules,
            "fee_rules": rules,
            "services": services,
            "versions_published": published,
            "complaint_categories": categories,
            "pending_drafts": pending,
        },
    )
    return result
