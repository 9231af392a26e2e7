"""The land pages' entries in the staff home, the citizen's account page and the public
home page (the rates balance check needs no account)."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from kaunti.core.menu import (
    CitizenLink,
    PublicLink,
    StaffLink,
    register_citizen_link,
    register_public_link,
    register_staff_link,
)
from kaunti.land.permissions import MANAGE_RATING, RUN_BILLING, VIEW_PARCELS, may


def register_links() -> None:
    """Called once from `LandConfig.ready`."""
    register_public_link(
        PublicLink(
            _("Check a parcel's land rates balance"),
            "land:check_balance",
            _("What a parcel owes and the bill number to pay it with."),
            30,
        )
    )
    register_citizen_link(
        CitizenLink(_("Check a parcel's land rates balance"), "land:check_balance", 30)
    )
    for link in (
        StaffLink(_("Land: parcels and owners"), "land:parcel_search", VIEW_PARCELS, 40, _views),
        StaffLink(_("Land: map of rates status"), "land:map", VIEW_PARCELS, 41, _views),
        StaffLink(_("Land: valuation rolls"), "land:roll_list", VIEW_PARCELS, 42, _views),
        StaffLink(_("Land: rating rules"), "land:rating", MANAGE_RATING, 43, _rates),
        StaffLink(_("Land: rates billing"), "land:billing", RUN_BILLING, 44, _bills),
    ):
        register_staff_link(link)


# Shown as the pages decide (`kaunti.land.permissions.may`: a role in the action's departments).
def _views(user: Any) -> bool:
    return may(user, VIEW_PARCELS)


def _rates(user: Any) -> bool:
    return may(user, MANAGE_RATING)


def _bills(user: Any) -> bool:
    return may(user, RUN_BILLING)
