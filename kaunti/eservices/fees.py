"""The fee engine: a county Finance Act's schedule applied to an application's answers.

Pure and deterministic: `compute_fees` reads nothing but its arguments, so the breakdown
an applicant sees before submitting is exactly the bill raised on submission, and the
same answers on the same day always cost the same. Fees are set by each county's annual
Finance Act (Constitution Art. 209(4); PFM Act s. 161), are varied only with public
participation (County Licensing (Uniform Procedures) Act 2024), and so live in data that
names its Act and its dates, never in code.

Rules, applied in their order:

- `fixed`: an amount.
- `rate_card`: an amount looked up by answers (e.g. business category and size) and by
  a zone derived from the ward.
- `per_unit`: a price per unit of a numeric answer (e.g. per m² of floor area), with an
  optional minimum and maximum charge.
- `penalty`: a percentage of earlier lines (e.g. 10% of the permit fee after 31 March).
- `waiver`: a percentage or an amount off earlier lines, granted by a named authority
  between two dates (the County Governments (Revenue Raising Process) Bill 2023 asks
  that every waiver be recorded).

Any rule may carry `when` (answers it applies to) and `starts_on`/`ends_on` (days it
applies on). Amounts are `Decimal`, rounded half-up to the cent, and never negative: a
waiver stops at zero and a line that comes to zero is left off the bill.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kaunti.core.money import ZERO, format_amount, format_kes, kes

HUNDRED = Decimal(100)


class RuleKind(StrEnum):
    FIXED = "fixed"
    RATE_CARD = "rate_card"
    PER_UNIT = "per_unit"
    PENALTY = "penalty"
    WAIVER = "waiver"


CHARGE_KINDS = frozenset({RuleKind.FIXED, RuleKind.RATE_CARD, RuleKind.PER_UNIT})


@dataclass(frozen=True)
class RuleSpec:
    """One rule of a schedule as plain data (what a `FeeRule` row or a data file holds)."""

    code: str
    kind: str
    parameters: Mapping[str, Any]
    stream_code: str = ""
    description_en: str = ""
    description_sw: str = ""
    starts_on: date | None = None
    ends_on: date | None = None
    order: int = 0


@dataclass(frozen=True)
class ScheduleSpec:
    """A fee schedule as plain data: the Finance Act it comes from and its rules."""

    name: str
    rules: tuple[RuleSpec, ...]
    effective_from: date | None = None
    effective_to: date | None = None


class HasScheduleSpec(Protocol):
    def to_spec(self) -> ScheduleSpec: ...


@dataclass(frozen=True)
class FeeLine:
    """One line of a breakdown, and of the bill: a revenue stream and a net amount."""

    stream_code: str
    description_en: str
    description_sw: str
    amount: Decimal
    rule_code: str = ""
    kind: str = ""
    waived: Decimal = ZERO

    def description(self, language: str) -> str:
        return (
            self.description_sw if language == "sw" and self.description_sw else self.description_en
        )


@dataclass(frozen=True)
class AppliedWaiver:
    """A waiver that took money off this breakdown, with the authority that granted it."""

    rule_code: str
    description_en: str
    description_sw: str
    authority: str
    amount: Decimal

    def description(self, language: str) -> str:
        return (
            self.description_sw if language == "sw" and self.description_sw else self.description_en
        )


@dataclass(frozen=True)
class FeeBreakdown:
    """What an application costs: the lines (each more than zero) and their total."""

    lines: tuple[FeeLine, ...]
    total: Decimal
    waivers: tuple[AppliedWaiver, ...] = field(default=())
    schedule_name: str = ""

    def as_json(self) -> dict[str, Any]:
        """The breakdown as stored on a submitted application (amounts as strings)."""
        return {
            "schedule": self.schedule_name,
            "total": str(self.total),
            "lines": [
                {
                    "stream_code": line.stream_code,
                    "description_en": line.description_en,
                    "description_sw": line.description_sw,
                    "amount": str(line.amount),
                    "rule_code": line.rule_code,
                    "kind": line.kind,
                    "waived": str(line.waived),
                }
                for line in self.lines
            ],
            "waivers": [
                {
                    "rule_code": waiver.rule_code,
                    "description_en": waiver.description_en,
                    "description_sw": waiver.description_sw,
                    "authority": waiver.authority,
                    "amount": str(waiver.amount),
                }
                for waiver in self.waivers
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "FeeBreakdown":
        lines = tuple(
            FeeLine(
                stream_code=row["stream_code"],
                description_en=row["description_en"],
                description_sw=row["description_sw"],
                amount=Decimal(row["amount"]),
                rule_code=row.get("rule_code", ""),
                kind=row.get("kind", ""),
                waived=Decimal(row.get("waived", "0.00")),
            )
            for row in data.get("lines", [])
        )
        waivers = tuple(
            AppliedWaiver(
                rule_code=row["rule_code"],
                description_en=row["description_en"],
                description_sw=row["description_sw"],
                authority=row["authority"],
                amount=Decimal(row["amount"]),
            )
            for row in data.get("waivers", [])
        )
        return cls(
            lines=lines,
            total=Decimal(data.get("total", "0.00")),
            waivers=waivers,
            schedule_name=str(data.get("schedule", "")),
        )


# --- Parsing a rule's parameters (also how an operator's edit is checked) ---------------


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


# --- Computing ------------------------------------------------------------------------------


@dataclass
class _Line:
    stream_code: str
    description_en: str
    description_sw: str
    amount: Decimal
    rule_code: str
    kind: str
    waived: Decimal = ZERO


def _joined(base: str, detail: str) -> str:
    return f"{base}: {detail}" if base and detail else base or detail


def _charge(rule: ParsedRule, answers: Mapping[str, str]) -> _Line:
    spec = rule.spec
    kind = RuleKind(spec.kind)
    if kind == RuleKind.FIXED:
        return _Line(
            spec.stream_code,
            spec.description_en,
            spec.description_sw,
            kes(rule.amount),
            spec.code,
            kind,
        )
    if kind == RuleKind.RATE_CARD:
        keys = {lookup.key: lookup.value(answers) for lookup in rule.lookups}
        for lookup in rule.lookups:
            if not keys[lookup.key]:
                raise ValidationError({lookup.field: [_("Answer this to work out the fee.")]})
        for row in rule.rows:
            if row.matches(keys):
                return _Line(
                    spec.stream_code,
                    _joined(spec.description_en, row.label_en),
                    _joined(spec.description_sw, row.label_sw or row.label_en),
                    kes(row.amount),
                    spec.code,
                    kind,
                )
        raise ValidationError(
            {
                rule.lookups[0].field: [
                    _("There is no fee for this choice in the Finance Act's schedule.")
                ]
            }
        )
    # Per unit.
    raw = (answers.get(rule.quantity_field) or "").strip()
    try:
        quantity = Decimal(raw) if raw else None
    except InvalidOperation:
        quantity = None
    if quantity is None or not quantity.is_finite() or quantity < 0:
        raise ValidationError({rule.quantity_field: [_("Enter a number to work out the fee.")]})
    amount = kes(quantity * rule.unit_price)
    if rule.minimum is not None:
        amount = max(amount, kes(rule.minimum))
    if rule.maximum is not None:
        amount = min(amount, kes(rule.maximum))
    quantity_text = f"{quantity.normalize():f}"
    price_text = format_amount(rule.unit_price)
    return _Line(
        spec.stream_code,
        f"{spec.description_en} ({quantity_text} {rule.unit_en} x KES {price_text})".replace(
            "  ", " "
        ),
        f"{spec.description_sw or spec.description_en} ({quantity_text} {rule.unit_sw or rule.unit_en} x KES {price_text})".replace(
            "  ", " "
        ),
        amount,
        spec.code,
        kind,
    )


def _is_late(rule: ParsedRule, on_date: date) -> bool:
    if rule.after_month_day is None:
        return True
    month, day = rule.after_month_day
    if (month, day) == (2, 29) and not _is_leap(on_date.year):
        day = 28
    return on_date > date(on_date.year, month, day)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _penalty(rule: ParsedRule, lines: Sequence[_Line]) -> _Line | None:
    spec = rule.spec
    base = sum(
        (
            line.amount
            for line in lines
            if line.kind in CHARGE_KINDS
            and (not rule.of_streams or line.stream_code in rule.of_streams)
        ),
        ZERO,
    )
    amount = kes(base * rule.percent / HUNDRED)
    if amount <= 0:
        return None
    return _Line(
        spec.stream_code,
        spec.description_en,
        spec.description_sw,
        amount,
        spec.code,
        RuleKind.PENALTY,
    )


def _waive(rule: ParsedRule, lines: list[_Line]) -> AppliedWaiver | None:
    """Take a waiver off the lines it covers, in order; never below zero."""
    covered = [
        line
        for line in lines
        if line.amount > 0
        and (not rule.of_streams or line.stream_code in rule.of_streams)
        and (line.kind == RuleKind.PENALTY if rule.penalties_only else True)
    ]
    total_off = ZERO
    if rule.percent > 0:
        for line in covered:
            off = min(line.amount, kes(line.amount * rule.percent / HUNDRED))
            line.amount -= off
            line.waived += off
            total_off += off
    else:
        remaining = kes(rule.amount)
        for line in covered:
            off = min(line.amount, remaining)
            line.amount -= off
            line.waived += off
            remaining -= off
            total_off += off
    if total_off <= 0:
        return None
    spec = rule.spec
    return AppliedWaiver(
        spec.code, spec.description_en, spec.description_sw, rule.authority, total_off
    )


def _ordered(rules: Sequence[RuleSpec]) -> list[RuleSpec]:
    return sorted(rules, key=lambda rule: (rule.order, rule.code))


def compute_fees(
    *, schedule: ScheduleSpec | HasScheduleSpec, answers: Mapping[str, str], on_date: date
) -> FeeBreakdown:
    """The line-by-line fee for `answers` on `on_date` under `schedule`.

    Raises `ValidationError` keyed by the answer that is missing or has no fee, so a form
    can show the message beside that answer.
    """
    spec = schedule if isinstance(schedule, ScheduleSpec) else schedule.to_spec()
    lines: list[_Line] = []
    waivers: list[AppliedWaiver] = []
    for rule_spec in _ordered(spec.rules):
        rule = parse_rule(rule_spec)
        if not rule.applies(answers=answers, on_date=on_date):
            continue
        kind = RuleKind(rule_spec.kind)
        if kind in CHARGE_KINDS:
            lines.append(_charge(rule, answers))
        elif kind == RuleKind.PENALTY:
            if _is_late(rule, on_date) and (penalty := _penalty(rule, lines)) is not None:
                lines.append(penalty)
        elif (waiver := _waive(rule, lines)) is not None:
            waivers.append(waiver)
    final = tuple(
        FeeLine(
            stream_code=line.stream_code,
            description_en=_with_waiver(line.description_en, line.waived),
            description_sw=_with_waiver(line.description_sw, line.waived, swahili=True),
            amount=kes(line.amount),
            rule_code=line.rule_code,
            kind=line.kind,
            waived=kes(line.waived),
        )
        for line in lines
        if line.amount > 0
    )
    return FeeBreakdown(
        lines=final,
        total=sum((line.amount for line in final), ZERO),
        waivers=tuple(waivers),
        schedule_name=spec.name,
    )


def _with_waiver(description: str, waived: Decimal, *, swahili: bool = False) -> str:
    if waived <= 0:
        return description
    note = "imepunguzwa" if swahili else "waived"
    return f"{description} ({format_kes(waived)} {note})"
