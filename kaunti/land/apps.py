from django.apps import AppConfig


class LandConfig(AppConfig):
    name = "kaunti.land"
    label = "land"
    verbose_name = "Land"

    def ready(self) -> None:
        # payments calls the handler inside the transaction that settles a rates bill;
        # e-services runs the clearance check by name (kaunti.core.service_checks).
        from kaunti.core.service_checks import register_service_check
        from kaunti.land.links import register_links
        from kaunti.land.models import RATES_SOURCE_TYPE
        from kaunti.land.services.clearance import RATES_CLEAR_CHECK, check_rates_clear
        from kaunti.land.services.settlement import handle_rates_bill_settled
        from kaunti.payments.settlement import register_settlement_handler

        register_settlement_handler(RATES_SOURCE_TYPE, handle_rates_bill_settled)
        register_service_check(RATES_CLEAR_CHECK, check_rates_clear)
        register_links()
