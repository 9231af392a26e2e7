"""What an application costs, line by line: the breakdown shown before submission and
billed on it, stored on the application as JSON."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kaunti.core.money import ZERO


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
