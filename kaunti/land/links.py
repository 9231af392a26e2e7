"""The land pages' entries in the staff home, the citizen's account page and the public
home page (the rates balance check needs no account)."""

from django.utils.translation import gettext_lazy as _

from kaunti.core.menu import (
    CitizenLink,
    PublicLink,
    StaffLink,
    register_citizen_link,
    register_public_link,
    register_staff_link,
)


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
        StaffLink(_("Land: parcels and owners"), "land:parcel_search", "land.view_parcels", 40),
        StaffLink(_("Land: map of rates status"), "land:map", "land.view_parcels", 41),
        StaffLink(_("Land: valuation rolls"), "land:roll_list", "land.view_parcels", 42),
        StaffLink(_("Land: rating rules"), "land:rating", "land.manage_rating", 43),
        StaffLink(_("Land: rates billing"), "land:billing", "land.run_billing", 44),
    ):
        register_staff_link(link)
