from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EservicesConfig(AppConfig):
    name = "kaunti.eservices"
    label = "eservices"
    verbose_name = "E-services"

    def ready(self) -> None:
        # payments calls this handler inside the transaction that settles an application's
        # bill (ARCHITECTURE.md: the owner of a bill's source registers it at start-up).
        from kaunti.core.menu import (
            CitizenLink,
            PublicLink,
            StaffLink,
            register_citizen_link,
            register_public_link,
            register_staff_link,
        )
        from kaunti.core.metrics.figures import register_figures
        from kaunti.eservices.models import APPLICATION_SOURCE_TYPE
        from kaunti.eservices.selectors.operations import sla_figures
        from kaunti.eservices.services.settlement import handle_bill_settled
        from kaunti.payments.settlement import register_settlement_handler

        register_settlement_handler(APPLICATION_SOURCE_TYPE, handle_bill_settled)
        # /metrics: complaints and application steps past their SLA (ADR 21).
        register_figures("eservices", sla_figures)
        # The catalogue is public (browse before signing in); complaints need an account,
        # so they are on the citizen's page, not the public home page.
        register_public_link(
            PublicLink(
                _("Permits, licences and certificates"),
                "eservices:service_list",
                _("See what you can apply for, what it costs and what you need."),
                20,
            )
        )
        for citizen_link in (
            CitizenLink(_("Apply for a permit or licence"), "eservices:service_list", 20),
            CitizenLink(_("My applications"), "eservices:my_applications", 21),
            CitizenLink(_("Complaints"), "eservices:my_complaints", 22),
        ):
            register_citizen_link(citizen_link)
        for staff_link in (
            StaffLink(
                _("Applications work queue"),
                "eservices:staff_queue",
                "eservices.view_applications",
                30,
            ),
            StaffLink(
                _("Complaints inbox"), "eservices:staff_inbox", "eservices.view_complaints", 31
            ),
            StaffLink(
                _("Overdue application steps"),
                "eservices:staff_overdue",
                "eservices.reassign",
                32,
            ),
        ):
            register_staff_link(staff_link)
