"""Reads of the catalogue: services to browse, their current definition, fee schedules."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kaunti.core.money import format_kes
from kaunti.core.selectors import list_wards
from kaunti.eservices.definitions.version import VersionDefinition, parse_version
from kaunti.eservices.fees.rules import ParsedRule, parse_rule
from kaunti.eservices.fees.schedules import RuleKind
from kaunti.eservices.models import ComplaintCategory, FeeSchedule, Service, ServiceVersion


def list_services(*, query: str = "") -> QuerySet[Service]:
    """Services taking applications, searched in English and Kiswahili alike."""
    services = Service.objects.filter(is_active=True, current_version__isnull=False).select_related(
        "department", "current_version"
    )
    text = query.strip()
    if text:
        services = services.filter(
            Q(name_en__icontains=text)
            | Q(name_sw__icontains=text)
            | Q(description_en__icontains=text)
            | Q(description_sw__icontains=text)
            | Q(code__icontains=text)
        )
    return services.order_by("order", "name_en")


def get_service(*, code: str) -> Service | None:
    """A service taking applications, by its code."""
    return (
        Service.objects.filter(code=code, is_active=True, current_version__isnull=False)
        .select_related("department", "current_version")
        .first()
    )


def get_version_definition(*, version: ServiceVersion) -> VersionDefinition:
    """A version's form (group it with `definitions.group_into_sections`), documents and
    workflow, typed for rendering."""
    return parse_version(form=version.form, documents=version.documents, workflow=version.workflow)


def get_fee_schedule_in_force(*, code: str, on_date: date) -> FeeSchedule | None:
    """The schedule of `code` in force on `on_date` (the latest to start, if they overlap)."""
    return (
        FeeSchedule.objects.filter(code=code, effective_from__lte=on_date)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=on_date))
        .prefetch_related("rules")
        .order_by("-effective_from")
        .first()
    )


def list_complaint_categories() -> QuerySet[ComplaintCategory]:
    """The categories a citizen chooses from, each owned by a department."""
    return ComplaintCategory.objects.filter(is_active=True).select_related("department")


@dataclass(frozen=True)
class FeeScheduleRow:
    """One line of a fee schedule as the public reads it: what is charged, and how much."""

    item: str
    amount: str


def _percent(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _zone_names(rule: ParsedRule) -> dict[tuple[str, str], str]:
    """(lookup key, zone) to the wards it covers, by name: "Engineer, Karau" or "other wards"."""
    names = dict(list_wards().values_list("code", "name"))
    described: dict[tuple[str, str], str] = {}
    for lookup in rule.lookups:
        if not lookup.zones and not lookup.default:
            continue
        by_zone: dict[str, list[str]] = {}
        for ward, zone in lookup.zones.items():
            by_zone.setdefault(zone, []).append(names.get(ward, ward))
        for zone, wards in by_zone.items():
            described[(lookup.key, zone)] = _("in %(wards)s") % {"wards": ", ".join(sorted(wards))}
        if lookup.default:
            described[(lookup.key, lookup.default)] = _("in the other wards")
    return described


def _rule_rows(rule: ParsedRule, language: str) -> list[FeeScheduleRow]:
    spec = rule.spec
    description = (
        spec.description_sw if language == "sw" and spec.description_sw else spec.description_en
    )
    kind = RuleKind(spec.kind)
    if kind == RuleKind.FIXED:
        return [FeeScheduleRow(description, format_kes(rule.amount))]
    if kind == RuleKind.RATE_CARD:
        zones = _zone_names(rule)
        rows = []
        for row in rule.rows:
            label = (
                row.label_sw if language == "sw" and row.label_sw else row.label_en
            ) or description
            where = [
                zones[(key, value)] for key, value in row.match.items() if (key, value) in zones
            ]
            rows.append(FeeScheduleRow(" ".join([label, *where]), format_kes(row.amount)))
        return rows
    if kind == RuleKind.PER_UNIT:
        unit = rule.unit_sw if language == "sw" and rule.unit_sw else rule.unit_en
        amount = _("%(price)s per %(unit)s") % {"price": format_kes(rule.unit_price), "unit": unit}
        if rule.minimum is not None:
            amount += _(", at least %(amount)s") % {"amount": format_kes(rule.minimum)}
        if rule.maximum is not None:
            amount += _(", at most %(amount)s") % {"amount": format_kes(rule.maximum)}
        return [FeeScheduleRow(description, amount)]
    if kind == RuleKind.PENALTY:
        return [
            FeeScheduleRow(
                description, _("%(percent)s%% more") % {"percent": _percent(rule.percent)}
            )
        ]
    if rule.percent:
        return [
            FeeScheduleRow(
                description, _("%(percent)s%% off") % {"percent": _percent(rule.percent)}
            )
        ]
    return [FeeScheduleRow(description, _("%(amount)s off") % {"amount": format_kes(rule.amount)})]


def describe_fee_schedule(
    *, schedule: FeeSchedule, language: str, on_date: date
) -> list[FeeScheduleRow]:
    """The fees of a schedule as the public reads them before applying: each charge with
    its amount (every category of a rate card, by name; a ward zone by its wards), the
    penalties and the waivers that apply on `on_date`, in `language`."""
    rows: list[FeeScheduleRow] = []
    for rule in schedule.rules.order_by("order", "code"):
        if (rule.starts_on and on_date < rule.starts_on) or (
            rule.ends_on and on_date > rule.ends_on
        ):
            continue
        rows += _rule_rows(parse_rule(rule.to_spec()), language)
    return rows
