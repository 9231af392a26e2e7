"""The project's routes: each app owns its pages (`urls.py`) and its API (`api_urls.py`);
this file only mounts them, with the schema, its docs and the admin."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

api_v1: list[URLPattern | URLResolver] = [
    path("", include("kaunti.eservices.api_urls")),
    path("", include("kaunti.accounts.api_urls")),
    path("", include("kaunti.core.api_urls")),
    path("", include("kaunti.payments.api_urls")),
    path("", include("kaunti.ledger.api_urls")),
    path("", include("kaunti.land.api_urls")),
    path("", include("kaunti.ussd.api_urls")),
]

urlpatterns = [
    path("", include("kaunti.core.urls")),
    path("", include("kaunti.accounts.urls")),
    path("", include("kaunti.payments.urls")),
    path("", include("kaunti.eservices.urls")),
    path("", include("kaunti.land.urls")),
    path("", include("kaunti.ussd.urls")),
    path("staff/ledger/", include("kaunti.ledger.urls")),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]

handler403 = "kaunti.core.views.permission_denied"
handler404 = "kaunti.core.views.page_not_found"
handler500 = "kaunti.core.views.server_error"
