"""A rule's parameters checked and typed for its kind (also how an operator's edit to a
schedule is checked)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kaunti.core.money import ZERO
from kaunti.eservices.fees.schedules import RuleKind, RuleSpec

HUNDRED = Decimal(100)


def _decimal(value: Any, *, what: str) -> Decimal:
    if isinstance(value, float | bool):
        raise ValidationError(
            _("%(what)s must be written as a string or a whole number.") % {"what": what}
        )
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError(_("%(what)s is not a number.") % {"what": what}) from exc
    if not amount.is_finite() or amount < 0:
        raise ValidationError(_("%(what)s must be zero or more.") % {"what": what})
    return amount


def _conditions(parameters: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    raw = parameters.get("when", {})
    if not isinstance(raw, Mapping):
        raise ValidationError(_("`when` must map answer names to allowed values."))
    conditions: dict[str, frozenset[str]] = {}
    for name, allowed in raw.items():
        values = [allowed] if isinstance(allowed, str) else allowed
        if not isinstance(values, Sequence) or not all(isinstance(v, str) for v in values):
            raise ValidationError(_("`when` values must be text."))
        conditions[str(name)] = frozenset(values)
    return conditions


def _streams(parameters: Mapping[str, Any]) -> frozenset[str]:
    raw = parameters.get("of_streams", [])
    if (
        not isinstance(raw, Sequence)
        or isinstance(raw, str)
        or not all(isinstance(v, str) for v in raw)
    ):
        raise ValidationError(_("`of_streams` must be a list of revenue stream codes."))
    return frozenset(raw)


@dataclass(frozen=True)
class Lookup:
    """How a rate card reads one key: an answer, or the zone of the ward an answer names."""

    field: str
    key: str
    zones: Mapping[str, str]
    default: str

    def value(self, answers: Mapping[str, str]) -> str:
        raw = (answers.get(self.field) or "").strip()
        if not raw:
            return ""
        if self.zones or self.default:
            return self.zones.get(raw, self.default)
        return raw


@dataclass(frozen=True)
class RateRow:
    match: Mapping[str, str]
    amount: Decimal
    label_en: str
    label_sw: str

    def matches(self, keys: Mapping[str, str]) -> bool:
        return all(expected in ("*", keys.get(key)) for key, expected in self.match.items())


@dataclass(frozen=True)
class ParsedRule:
    """A rule with its parameters checked and typed."""

    spec: RuleSpec
    conditions: Mapping[str, frozenset[str]]
    amount: Decimal = ZERO  # fixed; waiver by amount
    percent: Decimal = ZERO  # penalty; waiver by percentage
    lookups: tuple[Lookup, ...] = ()
    rows: tuple[RateRow, ...] = ()
    quantity_field: str = ""
    unit_price: Decimal = ZERO
    unit_en: str = ""
    unit_sw: str = ""
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    of_streams: frozenset[str] = frozenset()
    after_month_day: tuple[int, int] | None = None
    authority: str = ""
    penalties_only: bool = False

    def applies(self, *, answers: Mapping[str, str], on_date: date) -> bool:
        spec = self.spec
        if spec.starts_on is not None and on_date < spec.starts_on:
            return False
        if spec.ends_on is not None and on_date > spec.ends_on:
            return False
        return all(
            (answers.get(name) or "") in allowed for name, allowed in self.conditions.items()
        )


def _month_day(raw: Any) -> tuple[int, int]:
    try:
        month_text, day_text = str(raw).split("-")
        month, day = int(month_text), int(day_text)
        date(2024, month, day)  # a leap year, so 02-29 is allowed
    except ValueError as exc:
        raise ValidationError(_("`after` must be a month and day like 03-31.")) from exc
    return month, day


def parse_rule(spec: RuleSpec) -> ParsedRule:
    """Check a rule's parameters for its kind; raise `ValidationError` naming what is wrong."""
    parameters = spec.parameters
    if not isinstance(parameters, Mapping):
        raise ValidationError(_("A rule's parameters must be an object."))
    try:
        kind = RuleKind(spec.kind)
    except ValueError as exc:
        raise ValidationError(_("Unknown rule kind: %(kind)s") % {"kind": spec.kind}) from exc
    if kind != RuleKind.WAIVER and not spec.stream_code:
        raise ValidationError(_("Name the revenue stream this rule charges to."))
    if spec.starts_on and spec.ends_on and spec.starts_on > spec.ends_on:
        raise ValidationError(_("A rule cannot end before it starts."))
    conditions = _conditions(parameters)
    if kind == RuleKind.FIXED:
        return ParsedRule(
            spec, conditions, amount=_decimal(parameters.get("amount"), what="amount")
        )
    if kind == RuleKind.RATE_CARD:
        return _parse_rate_card(spec, conditions)
    if kind == RuleKind.PER_UNIT:
        quantity_field = parameters.get("field")
        if not isinstance(quantity_field, str) or not quantity_field:
            raise ValidationError(_("A per-unit rule names the answer that holds the quantity."))
        minimum = parameters.get("minimum")
        maximum = parameters.get("maximum")
        parsed_min = _decimal(minimum, what="minimum") if minimum is not None else None
        parsed_max = _decimal(maximum, what="maximum") if maximum is not None else None
        if parsed_min is not None and parsed_max is not None and parsed_min > parsed_max:
            raise ValidationError(_("The minimum charge is more than the maximum."))
        return ParsedRule(
            spec,
            conditions,
            quantity_field=quantity_field,
            unit_price=_decimal(parameters.get("unit_price"), what="unit_price"),
            unit_en=str(parameters.get("unit_en", "")),
            unit_sw=str(parameters.get("unit_sw", "")),
            minimum=parsed_min,
            maximum=parsed_max,
        )
    if kind == RuleKind.PENALTY:
        after = parameters.get("after")
        return ParsedRule(
            spec,
            conditions,
            percent=_decimal(parameters.get("percent"), what="percent"),
            of_streams=_streams(parameters),
            after_month_day=_month_day(after) if after is not None else None,
        )
    # Waiver: dated and authorised, always.
    authority = str(parameters.get("authority", "")).strip()
    if not authority:
        raise ValidationError(_("A waiver names the authority that granted it."))
    if spec.starts_on is None or spec.ends_on is None:
        raise ValidationError(_("A waiver has a first and a last day."))
    has_percent, has_amount = "percent" in parameters, "amount" in parameters
    if has_percent == has_amount:
        raise ValidationError(_("A waiver is either a percentage or an amount."))
    percent = _decimal(parameters["percent"], what="percent") if has_percent else ZERO
    if percent > HUNDRED:
        raise ValidationError(_("A waiver cannot be more than 100%."))
    return ParsedRule(
        spec,
        conditions,
        percent=percent,
        amount=_decimal(parameters["amount"], what="amount") if has_amount else ZERO,
        of_streams=_streams(parameters),
        authority=authority,
        penalties_only=bool(parameters.get("penalties_only", False)),
    )


def _parse_rate_card(spec: RuleSpec, conditions: Mapping[str, frozenset[str]]) -> ParsedRule:
    raw_lookups = spec.parameters.get("lookup")
    raw_rows = spec.parameters.get("rows")
    if not isinstance(raw_lookups, Sequence) or not raw_lookups:
        raise ValidationError(_("A rate card lists the answers it is looked up by."))
    if not isinstance(raw_rows, Sequence) or not raw_rows:
        raise ValidationError(_("A rate card has at least one row."))
    lookups = []
    for raw in raw_lookups:
        if not isinstance(raw, Mapping) or not raw.get("field"):
            raise ValidationError(_("Each lookup names an answer (`field`)."))
        zones: dict[str, str] = {}
        for zone, wards in dict(raw.get("zones", {})).items():
            for ward in wards:
                zones[str(ward)] = str(zone)
        lookups.append(
            Lookup(
                field=str(raw["field"]),
                key=str(raw.get("as", raw["field"])),
                zones=zones,
                default=str(raw.get("default", "")),
            )
        )
    keys = {lookup.key for lookup in lookups}
    rows = []
    for raw in raw_rows:
        if not isinstance(raw, Mapping):
            raise ValidationError(_("Each rate card row is an object."))
        match = {key: str(raw.get(key, "*")) for key in keys}
        rows.append(
            RateRow(
                match=match,
                amount=_decimal(raw.get("amount"), what="amount"),
                label_en=str(raw.get("label_en", "")),
                label_sw=str(raw.get("label_sw", "")),
            )
        )
    return ParsedRule(spec, conditions, lookups=tuple(lookups), rows=tuple(rows))
