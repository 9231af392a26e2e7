from django.apps import AppConfig


class LandConfig(AppConfig):
    name = "kaunti.land"
    label = "land"
    verbose_name = "Land"

    def ready(self) -> None:
        from kaunti.land.links import register_links

        register_links()
