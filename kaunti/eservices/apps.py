from django.apps import AppConfig


class EservicesConfig(AppConfig):
    name = "kaunti.eservices"
    label = "eservices"
    verbose_name = "E-services"

    def ready(self) -> None:
        # payments calls this handler inside the transaction that settles an application's
        # bill (ARCHITECTURE.md: the owner of a bill's source registers it at start-up).
        from kaunti.eservices.models import APPLICATION_SOURCE_TYPE
        from kaunti.eservices.services.settlement import handle_bill_settled
        from kaunti.payments.settlement import register_settlement_handler

        register_settlement_handler(APPLICATION_SOURCE_TYPE, handle_bill_settled)
