from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from kaunti.core.menu import CitizenLink, StaffLink, register_citizen_link, register_staff_link
from kaunti.core.metrics.figures import register_figures


class PaymentsConfig(AppConfig):
    name = "kaunti.payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        # Services queue the payments tasks by name (kaunti.core.services.jobs.enqueue); importing
        # the tasks here registers those names in every process, web and worker alike.
        from kaunti.payments import tasks  # noqa: F401
        from kaunti.payments.selectors.operations import callback_figures

        # /metrics: callbacks awaiting recording, STK prompts unanswered (ADR 21).
        register_figures("payments", callback_figures)

        register_citizen_link(CitizenLink(_("My bills and receipts"), "payments:my_bills", 10))
        for link in (
            StaffLink(_("Bills"), "payments:staff_bills", "payments.view_bills", 10),
            StaffLink(_("Raise a bill"), "payments:staff_raise_bill", "payments.raise_bill", 11),
            StaffLink(_("Counter"), "payments:counter_home", "payments.receive_payment", 12),
            StaffLink(
                _("Payments in suspense"), "payments:staff_suspense", "payments.review_suspense", 13
            ),
            StaffLink(
                _("Reconciliation"), "payments:reconciliation_list", "payments.reconcile", 14
            ),
            StaffLink(
                _("Revenue dashboard"), "payments:revenue_dashboard", "payments.view_reports", 15
            ),
            StaffLink(_("Ledger: trial balance"), "ledger:trial_balance", "ledger.view", 20),
        ):
            register_staff_link(link)
