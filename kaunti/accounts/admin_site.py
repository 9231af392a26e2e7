"""The Django admin is for superusers who signed in with their second factor, nobody else."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode


class KauntiAdminSite(admin.AdminSite):
    site_header = "Kaunti administration"
    site_title = "Kaunti admin"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(
            user.is_active and user.is_superuser and getattr(user, "is_verified", lambda: False)()
        )

    def login(
        self, request: HttpRequest, extra_context: dict[str, object] | None = None
    ) -> HttpResponse:
        # One way in for staff: the password-and-TOTP sign-in.
        next_url = request.GET.get("next", reverse("admin:index"))
        return redirect(f"{reverse('accounts:staff_sign_in')}?{urlencode({'next': next_url})}")


class KauntiAdminConfig(AdminConfig):
    default_site = "kaunti.accounts.admin_site.KauntiAdminSite"
