from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperationsConfig(AppConfig):
    """What the county's operators run: backups, restores and the restore drill (ADR 20)."""

    name = "kaunti.operations"
    label = "operations"
    verbose_name = _("Operations")
