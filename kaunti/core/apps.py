from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kaunti.core"
    label = "core"
    verbose_name = "Core"
