from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "kaunti.payments"
    label = "payments"
    verbose_name = "Payments"
