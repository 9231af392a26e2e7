"""API routes of this app, mounted under /api/v1/ in the 'api' namespace.

Included first in `api_v1` (kaunti/urls.py), and the three routes at the top come first
here: they are more specific than `applications/<reference>/steps/<code>/<action>/`."""

from django.urls import path

from kaunti.eservices import api

urlpatterns = [
    path(
        "applications/<str:reference>/steps/<str:code>/assignee/",
        api.StepReassignApi.as_view(),
        name="application-step-reassign",
    ),
    path(
        "applications/<str:reference>/documents/<uuid:public_id>/",
        api.ApplicationDocumentContentApi.as_view(),
        name="application-document-content",
    ),
    path(
        "applications/<str:reference>/document.pdf",
        api.IssuedDocumentPdfApi.as_view(),
        name="application-issued-document",
    ),
    path("services/", api.ServiceListApi.as_view(), name="services"),
    path("services/<slug:code>/", api.ServiceDetailApi.as_view(), name="service"),
    path("applications/", api.ApplicationListApi.as_view(), name="applications"),
    path(
        "applications/<str:reference>/",
        api.ApplicationDetailApi.as_view(),
        name="application",
    ),
    path(
        "applications/<str:reference>/fees/",
        api.ApplicationFeesApi.as_view(),
        name="application-fees",
    ),
    path(
        "applications/<str:reference>/submit/",
        api.ApplicationSubmitApi.as_view(),
        name="application-submit",
    ),
    path(
        "applications/<str:reference>/documents/",
        api.ApplicationDocumentsApi.as_view(),
        name="application-documents",
    ),
    path(
        "applications/<str:reference>/steps/<str:code>/<slug:action>/",
        api.StepActionApi.as_view(),
        name="application-step-action",
    ),
    path("work-queue/", api.WorkQueueApi.as_view(), name="work-queue"),
    path("complaints/", api.ComplaintListApi.as_view(), name="complaints"),
    path(
        "complaints/<str:reference>/",
        api.ComplaintDetailApi.as_view(),
        name="complaint",
    ),
    path(
        "complaints/<str:reference>/<slug:action>/",
        api.ComplaintActionApi.as_view(),
        name="complaint-action",
    ),
]
