from django.apps import AppConfig


class LandConfig(AppConfig):
    name = "kaunti.land"
    label = "land"
    verbose_name = "Land"

    def ready(self) -> None:
        # payments calls the handler inside the transaction that settles a rates bill,
        # and shows rates bills to the collecting department's bill viewers too;
        # e-services runs the clearance check by name (kaunti.core.service_checks).
        from kaunti.core.metrics.figures import register_figures
        from kaunti.core.service_checks import register_service_check

        # Land's services start the rates run by task name (`jobs.enqueue_on_commit`).
        from kaunti.land import tasks  # noqa: F401
        from kaunti.land.links import register_links
        from kaunti.land.models import RATES_COLLECTING_DEPARTMENT, RATES_SOURCE_TYPE
        from kaunti.land.selectors.operations import billing_figures
        from kaunti.land.services.clearance import RATES_CLEAR_CHECK, check_rates_clear
        from kaunti.land.services.settlement import handle_rates_bill_settled
        from kaunti.payments.bill_access import register_bill_viewers
        from kaunti.payments.settlement import register_settlement_handler

        register_settlement_handler(RATES_SOURCE_TYPE, handle_rates_bill_settled)
        register_bill_viewers(RATES_SOURCE_TYPE, department_code=RATES_COLLECTING_DEPARTMENT)
        register_service_check(RATES_CLEAR_CHECK, check_rates_clear)
        register_links()
        # /metrics: the latest rates billing run's progress (ADR 21).
        register_figures("land", billing_figures)
