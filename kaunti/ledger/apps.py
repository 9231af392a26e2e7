from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "kaunti.ledger"
    label = "ledger"
    verbose_name = "Revenue ledger"
