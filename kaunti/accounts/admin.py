from django.contrib import admin
from django.http import HttpRequest
from rest_framework.authtoken.models import TokenProxy

from kaunti.accounts.models import ApiToken, PrivacyConsent, RoleAssignment, SignInCode, User

# API keys are `ApiToken` digests (issued with `manage.py issue_api_token`); DRF's table of
# plain keys stays empty (accounts 0004) and out of the admin.
if admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Who holds a key and since when; deleting one revokes it. Keys are issued with
    `manage.py issue_api_token`, which shows the key once."""

    list_display = ["user", "created_at"]
    search_fields = ["user__username", "user__full_name"]
    fields = ["user", "created_at"]
    readonly_fields = ["user", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    fk_name = "user"
    extra = 0
    readonly_fields = ["granted_at", "granted_by"]


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["username", "full_name", "kind", "department", "is_active"]
    list_filter = ["kind", "is_active", "department"]
    search_fields = ["username", "full_name", "phone", "national_id"]
    readonly_fields = ["public_id", "password", "last_login", "date_joined"]
    exclude = ["user_permissions", "groups"]
    inlines = [RoleAssignmentInline]


@admin.register(PrivacyConsent)
class PrivacyConsentAdmin(admin.ModelAdmin):
    list_display = ["user", "notice_version", "given_at", "channel", "withdrawn_at"]
    readonly_fields = ["user", "notice_version", "given_at", "channel"]


@admin.register(SignInCode)
class SignInCodeAdmin(admin.ModelAdmin):
    list_display = ["phone", "purpose", "created_at", "expires_at", "attempts", "used_at"]
    readonly_fields = ["phone", "purpose", "code_hash", "expires_at", "attempts", "used_at"]

    def has_add_permission(self, request: object) -> bool:
        return False
