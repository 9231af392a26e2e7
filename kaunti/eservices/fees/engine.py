"""The breakdown computed: a schedule's rules applied in their order to the answers, on
a given day."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kaunti.core.money import ZERO, format_amount, format_kes, kes
from kaunti.eservices.fees.breakdown import AppliedWaiver, FeeBreakdown, FeeLine
from kaunti.eservices.fees.rules import HUNDRED, ParsedRule, parse_rule
from kaunti.eservices.fees.schedules import (
    CHARGE_KINDS,
    HasScheduleSpec,
    RuleKind,
    RuleSpec,
    ScheduleSpec,
)


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
