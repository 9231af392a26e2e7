"""API routes of this app, mounted under /api/v1/ in the 'api' namespace.

Included first in `api_v1` (kaunti/urls.py), and the three routes at the top come first
here: they are more specific than `applications/<reference>/steps/<code>/<action>/`."""

from django.urls import path

from kaunti.eservices.api import applications, catalogue, complaints, documents, steps

urlpatterns = [
    path(
        "applications/<str:reference>/steps/<str:code>/assignee/",
        steps.StepReassignApi.as_view(),
        name="application-step-reassign",
    ),
    path(
        "applications/<str:reference>/documents/<uuid:public_id>/",
        documents.ApplicationDocumentContentApi.as_view(),
        name="application-document-content",
    ),
    path(
        "applications/<str:reference>/document.pdf",
        documents.IssuedDocumentPdfApi.as_view(),
        name="application-issued-document",
    ),
    path("services/", catalogue.ServiceListApi.as_view(), name="services"),
    path("services/<slug:code>/", catalogue.ServiceDetailApi.as_view(), name="service"),
    path("applications/", applications.ApplicationListApi.as_view(), name="applications"),
    path(
        "applications/<str:reference>/",
        applications.ApplicationDetailApi.as_view(),
        name="application",
    ),
    path(
        "applications/<str:reference>/fees/",
        applications.ApplicationFeesApi.as_view(),
        name="application-fees",
    ),
    path(
        "applications/<str:reference>/submit/",
        applications.ApplicationSubmitApi.as_view(),
        name="application-submit",
    ),
    path(
        "applications/<str:reference>/documents/",
        applications.ApplicationDocumentsApi.as_view(),
        name="application-documents",
    ),
    path(
        "applications/<str:reference>/steps/<str:code>/<slug:action>/",
        steps.StepActionApi.as_view(),
        name="application-step-action",
    ),
    path("work-queue/", steps.WorkQueueApi.as_view(), name="work-queue"),
    path("complaints/", complaints.ComplaintListApi.as_view(), name="complaints"),
    path(
        "complaints/<str:reference>/",
        complaints.ComplaintDetailApi.as_view(),
        name="complaint",
    ),
    path(
        "complaints/<str:reference>/<slug:action>/",
        complaints.ComplaintActionApi.as_view(),
        name="complaint-action",
    ),
]
