from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kaunti.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # The kernel checks staff permissions through a hook, since it may not import us.
        # Imported here: these modules load models, which ready() is the first place to do.
        from kaunti.accounts.permissions import has_permission
        from kaunti.core.permissions import register_permission_checker

        register_permission_checker(has_permission)
