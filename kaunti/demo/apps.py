from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo deployment: it sits above every other app and only calls their services."""

    name = "kaunti.demo"
    label = "demo"
    verbose_name = "Demo data"
