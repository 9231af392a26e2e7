"""A fee schedule and its rules as plain data: what a `FeeSchedule` row or a catalogue
data file holds, before anything is checked."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Protocol


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
