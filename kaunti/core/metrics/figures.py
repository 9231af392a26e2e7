"""Figures of the county's work that /metrics reads at scrape time, registered by the apps
that own them (`AppConfig.ready`): core is the lowest tier and imports no app, so each
app adds its own source here, reading through its own selectors.

A source is a function returning `Figure`s; each scrape calls every source once. A source
must stay cheap (counts and a minimum over indexed columns): Prometheus scrapes every
15 to 60 seconds.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Figure:
    """One gauge: its name (`kaunti_<app>_...`), its help text, and its values by labels."""

    name: str
    documentation: str
    samples: list[tuple[Mapping[str, str], float]] = field(default_factory=list)
    labels: tuple[str, ...] = ()

    @classmethod
    def single(cls, name: str, documentation: str, value: float) -> "Figure":
        return cls(name, documentation, [({}, float(value))])


FigureSource = Callable[[], Iterable[Figure]]

_sources: dict[str, FigureSource] = {}


def register_figures(name: str, source: FigureSource) -> None:
    """Add `source` under `name` (the app's label); registering again replaces it."""
    _sources[name] = source


def registered_sources() -> dict[str, FigureSource]:
    return dict(_sources)


def age_seconds(oldest: datetime | None, now: datetime) -> float:
    """How long the oldest item has waited; 0 when there is none."""
    return max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
