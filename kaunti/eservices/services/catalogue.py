"""Editing the catalogue: service details, draft versions, publishing, fee schedules.

A published version is never edited: an operator's change becomes a new draft, and
publishing the draft makes it the version new applications use. Applications already
made keep theirs, so nobody's application changes under them.
"""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from kaunti.accounts.models import User
from kaunti.core.models import Department
from kaunti.core.services.audit import record_event
from kaunti.eservices.definitions.documents import DocumentSpec, parse_documents
from kaunti.eservices.definitions.form import FieldSpec, FieldType, parse_form, parse_sections
from kaunti.eservices.definitions.version import VersionDefinition, parse_checks, year_day
from kaunti.eservices.definitions.workflow import StepSpec, parse_workflow
from kaunti.eservices.fees.rules import parse_rule
from kaunti.eservices.models import (
    VERSION_CONTENT_FIELDS,
    FeeRule,
    FeeSchedule,
    Service,
    ServiceVersion,
    ValidityRule,
    VersionStatus,
)


def check_version_definition(version: ServiceVersion) -> VersionDefinition:
    """Check that a version's parts fit together; `ValidationError` keyed by field name."""
    errors: dict[str, list[str]] = {}
    fields: tuple[FieldSpec, ...] = ()
    documents: tuple[DocumentSpec, ...] = ()
    steps: tuple[StepSpec, ...] = ()
    try:
        fields = parse_form(version.form)
    except ValidationError as exc:
        errors["form"] = exc.messages
    try:
        documents = parse_documents(version.documents)
    except ValidationError as exc:
        errors["documents"] = exc.messages
    try:
        steps = parse_workflow(version.workflow)
    except ValidationError as exc:
        errors["workflow"] = exc.messages
    else:
        codes = {step.department for step in steps if step.department}
        known = set(Department.objects.filter(code__in=codes).values_list("code", flat=True))
        if missing := sorted(codes - known):
            errors["workflow"] = [
                _("Unknown department codes in the workflow: %(codes)s")
                % {"codes": ", ".join(missing)}
            ]
    kinds = {document.kind for document in documents}
    names = {field.name for field in fields}
    for field in fields:
        if field.type == FieldType.FILE and field.document not in kinds:
            errors.setdefault("form", []).append(
                _(
                    "File field %(name)s names document kind %(kind)s, which is not in the required documents."
                )
                % {"name": field.name, "kind": field.document}
            )
    if version.holder_field and version.holder_field not in names:
        errors["holder_field"] = [_("No form field has this name.")]
    document_fields = version.document_fields
    if not isinstance(document_fields, list) or not all(
        isinstance(name, str) and name in names for name in document_fields
    ):
        errors["document_fields"] = [_("List names of form fields only.")]
    if version.validity_rule == ValidityRule.MONTHS and not version.validity_months:
        errors["validity_months"] = [_("Give the number of months.")]
    for document in documents:
        if unknown := sorted(set(document.required_again_if_changed) - names):
            errors.setdefault("documents", []).append(
                _("Document %(kind)s names unknown fields: %(names)s")
                % {"kind": document.kind, "names": ", ".join(unknown)}
            )
    if version.next_year_from:
        if version.validity_rule != ValidityRule.TO_31_DECEMBER:
            errors["next_year_from"] = [_("Only documents valid to 31 December roll over.")]
        elif year_day(version.next_year_from) is None:
            errors["next_year_from"] = [_("Write a day of the year like 12-01.")]
    try:
        parse_sections(version.sections)
    except ValidationError as exc:
        errors["sections"] = exc.messages
    try:
        if parse_checks(version.checks) and not steps:
            errors["checks"] = [
                _("A service with checks needs a workflow step: checks run again before issue.")
            ]
    except ValidationError as exc:
        errors["checks"] = exc.messages
    if errors:
        raise ValidationError(errors)
    return VersionDefinition(fields, documents, steps)


def _copy_content(source: ServiceVersion | None) -> dict[str, Any]:
    if source is None:
        return {}
    return {name: getattr(source, name) for name in VERSION_CONTENT_FIELDS}


@transaction.atomic
def save_service_details(*, service: Service, actor: User | None) -> Service:
    """Save a service's names, descriptions, department and availability (not versioned:
    they describe the service; what it asks and does lives in its versions)."""
    service.full_clean(exclude=["current_version"])
    is_new = service.pk is None
    service.save()
    record_event(
        actor=actor,
        action="eservices.service_created" if is_new else "eservices.service_changed",
        target=service,
        data={"code": service.code, "is_active": service.is_active},
    )
    return service


def _next_number(service: Service) -> int:
    Service.objects.select_for_update().filter(pk=service.pk).first()  # serialise numbering
    highest = service.versions.aggregate(highest=Max("number"))["highest"] or 0
    return int(highest) + 1


def make_draft_version(
    *,
    service: Service,
    actor: User | None,
    content: Mapping[str, Any],
    change_note: str,
) -> ServiceVersion:
    """Create the service's next draft (inside the caller's transaction, which writes the
    audit record); refused while another draft exists."""
    if service.versions.filter(status=VersionStatus.DRAFT).exists():
        raise ValidationError(
            _("This service already has a draft version: edit or publish that one first.")
        )
    version = ServiceVersion(
        service=service,
        number=_next_number(service),
        status=VersionStatus.DRAFT,
        change_note=change_note[:255],
        created_by=actor,
        **dict(content),
    )
    check_version_definition(version)
    version.full_clean()
    version.save()
    return version


@transaction.atomic
def create_draft_version(
    *,
    service: Service,
    actor: User | None,
    changes: Mapping[str, Any] | None = None,
    from_version: ServiceVersion | None = None,
    change_note: str = "",
) -> ServiceVersion:
    """Start the next version of a service: a copy of `from_version` (default the current
    one) with `changes` applied. The copied version is left exactly as it was."""
    unknown = set(changes or {}) - set(VERSION_CONTENT_FIELDS)
    if unknown:
        raise ValidationError(
            _("Unknown version fields: %(names)s") % {"names": ", ".join(sorted(unknown))}
        )
    content = _copy_content(from_version or service.current_version)
    content.update(changes or {})
    version = make_draft_version(
        service=service, actor=actor, content=content, change_note=change_note
    )
    record_event(
        actor=actor,
        action="eservices.version_drafted",
        target=version,
        data={"service": service.code, "number": version.number, "changes": sorted(changes or {})},
    )
    return version


@transaction.atomic
def save_draft_version(*, version: ServiceVersion, actor: User | None) -> ServiceVersion:
    """Save edits to a draft; a published version is refused (edit a new draft instead)."""
    stored = ServiceVersion.objects.select_for_update().filter(pk=version.pk).first()
    if (
        stored is None
        or stored.status != VersionStatus.DRAFT
        or version.status != VersionStatus.DRAFT
    ):
        raise ValidationError(
            _("A published version never changes: start a new draft from it instead.")
        )
    check_version_definition(version)
    version.full_clean()
    version.save()
    record_event(
        actor=actor,
        action="eservices.version_draft_saved",
        target=version,
        data={"service": version.service.code, "number": version.number},
    )
    return version


@transaction.atomic
def save_version_edit(*, version: ServiceVersion, actor: User | None) -> ServiceVersion:
    """Save an operator's edit of a version as the admin form made it.

    A new version or an edited draft is saved as a draft. An edited *published* version is
    not changed: its edited values become a new draft (returned), and the published one
    stays exactly as applications made under it knew it.
    """
    content = {name: getattr(version, name) for name in VERSION_CONTENT_FIELDS}
    if version.pk is not None:
        stored = ServiceVersion.objects.select_for_update().get(pk=version.pk)
        if stored.status == VersionStatus.DRAFT:
            return save_draft_version(version=version, actor=actor)
    draft = make_draft_version(
        service=version.service, actor=actor, content=content, change_note=version.change_note
    )
    record_event(
        actor=actor,
        action="eservices.version_drafted",
        target=draft,
        data={
            "service": draft.service.code,
            "number": draft.number,
            "from": version.number if version.pk is not None else None,
        },
    )
    return draft


def make_published(version: ServiceVersion, actor: User | None) -> ServiceVersion:
    """Publish a draft (inside the caller's transaction, which writes the audit record)."""
    stored = ServiceVersion.objects.select_for_update().get(pk=version.pk)
    if stored.status != VersionStatus.DRAFT:
        raise ValidationError(_("Only a draft can be published."))
    check_version_definition(stored)
    if (
        stored.fee_schedule_code
        and not FeeSchedule.objects.filter(code=stored.fee_schedule_code).exists()
    ):
        raise ValidationError({"fee_schedule_code": [_("No fee schedule has this code.")]})
    stored.status = VersionStatus.PUBLISHED
    stored.published_at = timezone.now()
    stored.published_by = actor
    stored.save(update_fields=["status", "published_at", "published_by"])
    Service.objects.filter(pk=stored.service_id).update(
        current_version=stored, updated_at=timezone.now()
    )
    return stored


@transaction.atomic
def publish_service_version(*, version: ServiceVersion, actor: User | None) -> ServiceVersion:
    """Make a draft the service's current version; from now on it never changes."""
    published = make_published(version, actor)
    record_event(
        actor=actor,
        action="eservices.version_published",
        target=published,
        data={"service": published.service.code, "number": published.number},
    )
    return published


# --- Fee schedules --------------------------------------------------------------------------


@transaction.atomic
def save_fee_schedule(*, schedule: FeeSchedule, actor: User | None) -> FeeSchedule:
    """Save a schedule's name, Act and dates. Applications already submitted keep the
    breakdown they were billed, so an edit never changes a bill already raised."""
    schedule.full_clean()
    is_new = schedule.pk is None
    schedule.save()
    record_event(
        actor=actor,
        action="eservices.fee_schedule_created" if is_new else "eservices.fee_schedule_changed",
        target=schedule,
        data={
            "code": schedule.code,
            "finance_act": schedule.finance_act,
            "from": schedule.effective_from,
            "to": schedule.effective_to,
        },
    )
    return schedule


def check_fee_rule(rule: FeeRule) -> None:
    """Check a rule's parameters for its kind; `ValidationError` on `parameters`."""
    try:
        parse_rule(rule.to_spec())
    except ValidationError as exc:
        raise ValidationError({"parameters": exc.messages}) from exc


@transaction.atomic
def save_fee_rule(*, rule: FeeRule, actor: User | None) -> FeeRule:
    """Save one rule of a schedule after checking its parameters."""
    check_fee_rule(rule)
    rule.full_clean()
    rule.save()
    record_event(
        actor=actor,
        action="eservices.fee_rule_saved",
        target=rule,
        data={
            "schedule": rule.schedule.code,
            "code": rule.code,
            "kind": rule.kind,
            "parameters": rule.parameters,
            "starts_on": rule.starts_on,
            "ends_on": rule.ends_on,
        },
    )
    return rule


@transaction.atomic
def delete_fee_rule(*, rule: FeeRule, actor: User | None) -> None:
    """Remove a rule from a schedule (bills already raised keep their lines)."""
    data = {"schedule": rule.schedule.code, "code": rule.code, "kind": rule.kind}
    target_id = str(rule.pk)
    rule.delete()
    record_event(
        actor=actor,
        action="eservices.fee_rule_deleted",
        target_type="eservices.feerule",
        target_id=target_id,
        data=data,
    )
