from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kaunti.accounts"
    label = "accounts"
    verbose_name = "Accounts"
