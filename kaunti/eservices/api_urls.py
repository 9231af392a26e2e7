"""Routes of the e-services API added after the project's urls.py listed the first ones.

Meant for `api_v1` in kaunti/urls.py (`path("", include("kaunti.eservices.api_urls"))`,
as land and ussd do); until then kaunti/eservices/urls.py mounts them under /api/v1/.
"""

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
