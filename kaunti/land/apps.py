from django.apps import AppConfig


class LandConfig(AppConfig):
    name = "kaunti.land"
    label = "land"
    verbose_name = "Land"
