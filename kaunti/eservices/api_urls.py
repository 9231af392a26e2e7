"""More routes of the e-services API, included first in `api_v1` (kaunti/urls.py): they
are more specific than `applications/<reference>/steps/<code>/<action>/`."""

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
]
