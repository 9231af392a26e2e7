from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from kaunti.accounts import api as accounts_api
from kaunti.core import api as core_api
from kaunti.core import views as core_views
from kaunti.eservices import api as eservices_api
from kaunti.ledger import api as ledger_api
from kaunti.payments import api as payments_api

api_v1: list[URLPattern | URLResolver] = [
    # First: its application routes are more specific than the step actions' below.
    path("", include("kaunti.eservices.api_urls")),
    path("me/", accounts_api.MeApi.as_view(), name="me"),
    path("wards/", core_api.WardListApi.as_view(), name="wards"),
    path("departments/", core_api.DepartmentListApi.as_view(), name="departments"),
    path("jobs/<uuid:public_id>/", core_api.JobApi.as_view(), name="job"),
    path("bills/", payments_api.BillListApi.as_view(), name="bills"),
    path("bills/<str:number>/", payments_api.BillDetailApi.as_view(), name="bill"),
    path("payments/stk/", payments_api.StkPushApi.as_view(), name="stk-push"),
    path("payments/stk/<uuid:public_id>/", payments_api.StkStatusApi.as_view(), name="stk-status"),
    path("receipts/<str:number>/", payments_api.ReceiptApi.as_view(), name="receipt"),
    path("ledger/trial-balance/", ledger_api.TrialBalanceApi.as_view(), name="trial-balance"),
    path("reports/revenue/", payments_api.RevenueReportApi.as_view(), name="revenue-report"),
    path("services/", eservices_api.ServiceListApi.as_view(), name="services"),
    path("services/<slug:code>/", eservices_api.ServiceDetailApi.as_view(), name="service"),
    path("applications/", eservices_api.ApplicationListApi.as_view(), name="applications"),
    path(
        "applications/<str:reference>/",
        eservices_api.ApplicationDetailApi.as_view(),
        name="application",
    ),
    path(
        "applications/<str:reference>/fees/",
        eservices_api.ApplicationFeesApi.as_view(),
        name="application-fees",
    ),
    path(
        "applications/<str:reference>/submit/",
        eservices_api.ApplicationSubmitApi.as_view(),
        name="application-submit",
    ),
    path(
        "applications/<str:reference>/documents/",
        eservices_api.ApplicationDocumentsApi.as_view(),
        name="application-documents",
    ),
    path(
        "applications/<str:reference>/steps/<str:code>/<slug:action>/",
        eservices_api.StepActionApi.as_view(),
        name="application-step-action",
    ),
    path("work-queue/", eservices_api.WorkQueueApi.as_view(), name="work-queue"),
    path("complaints/", eservices_api.ComplaintListApi.as_view(), name="complaints"),
    path(
        "complaints/<str:reference>/",
        eservices_api.ComplaintDetailApi.as_view(),
        name="complaint",
    ),
    path(
        "complaints/<str:reference>/<slug:action>/",
        eservices_api.ComplaintActionApi.as_view(),
        name="complaint-action",
    ),
    path("", include("kaunti.land.api_urls")),
    path("", include("kaunti.ussd.api_urls")),
]

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("verify/", core_views.verify_start, name="verify_start"),
    path("verify/<str:code>", core_views.verify_document, name="verify"),
    path("", include("kaunti.accounts.urls")),
    path("", include("kaunti.payments.urls")),
    path("", include("kaunti.eservices.urls")),
    path("", include("kaunti.land.urls")),
    path("", include("kaunti.ussd.urls")),
    path("staff/jobs/", include("kaunti.core.urls")),
    path("staff/ledger/", include("kaunti.ledger.urls")),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]

handler403 = "kaunti.core.views.permission_denied"
handler404 = "kaunti.core.views.page_not_found"
handler500 = "kaunti.core.views.server_error"
