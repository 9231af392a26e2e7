"""Bills that staff of a second department may see: what the owning apps register.

A bill belongs to the department it was raised under, and staff see the bills of the
departments where they hold a bill-viewing role (`payments.selectors`). Some revenue is
raised under one department and collected for the county by another: land rates are
billed under Lands (their revenue stream's department), while the Revenue Directorate's
officers run the rates billing and answer rate payers. An app that raises such bills
registers, in its `AppConfig.ready`, the department whose bill viewers may see them too.
The registry is filled once at start-up, identically on every node, and never changed
afterwards; only reads are widened by it (cancelling a receipt stays with the bill's own
department).
"""

from collections.abc import Iterable

_viewing_departments: dict[str, frozenset[str]] = {}


def register_bill_viewers(source_type: str, *, department_code: str) -> None:
    """Staff who may view bills in `department_code` (or in a parent of it) may also view
    the bills of `source_type`, whichever department raised them."""
    if not source_type:
        raise ValueError("bills without a source type belong to their department only")
    codes = _viewing_departments.get(source_type, frozenset())
    _viewing_departments[source_type] = codes | {department_code}


def viewing_department_codes(source_type: str) -> frozenset[str]:
    """The departments registered as seeing `source_type`'s bills besides their own."""
    return _viewing_departments.get(source_type, frozenset()) if source_type else frozenset()


def source_types_viewed_from(department_codes: Iterable[str]) -> list[str]:
    """The source types whose bills any of `department_codes` was registered as seeing."""
    codes = set(department_codes)
    return sorted(
        source_type for source_type, viewers in _viewing_departments.items() if viewers & codes
    )


def registered_department_codes() -> frozenset[str]:
    """Every department named by a registration (none: no query is needed)."""
    return frozenset().union(*_viewing_departments.values())
