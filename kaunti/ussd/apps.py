from django.apps import AppConfig


class UssdConfig(AppConfig):
    name = "kaunti.ussd"
    label = "ussd"
    verbose_name = "USSD and SMS"
