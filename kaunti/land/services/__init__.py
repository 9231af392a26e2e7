"""Every write of the land app (parcels, owners, the roll, rating, billing, penalties)."""

from typing import Any


def acting_user(actor: Any | None) -> Any | None:
    """The user to record as having done something: None for the system (a task, a
    command) or anyone not signed in."""
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None
