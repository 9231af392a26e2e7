from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from kaunti.core.menu import StaffLink, register_staff_link


class UssdConfig(AppConfig):
    name = "kaunti.ussd"
    label = "ussd"
    verbose_name = "USSD and SMS"

    def ready(self) -> None:
        register_staff_link(
            StaffLink(_("SMS not delivered"), "ussd:undelivered_sms", "core.view_outbox", 90)
        )
