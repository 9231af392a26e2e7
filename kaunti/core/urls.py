"""The kernel's pages: the home page, health checks and document verification at the
root (no namespace: their names are the site's own), and the staff job pages under
/staff/jobs/ in the "core" namespace."""

from django.urls import include, path

from kaunti.core import views
from kaunti.core.metrics import views as metrics_views

job_patterns = [
    path("<uuid:public_id>/", views.job_progress, name="job_progress"),
    path("<uuid:public_id>/progress/", views.job_progress_fragment, name="job_progress_fragment"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", metrics_views.metrics, name="metrics"),
    path("verify/", views.verify_start, name="verify_start"),
    path("verify/<str:code>", views.verify_document, name="verify"),
    path("staff/jobs/", include((job_patterns, "core"))),
]
