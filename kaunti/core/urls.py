"""The kernel's pages: the home page, health checks and document verification at the
root (no namespace: their names are the site's own), and the staff job pages under
/staff/jobs/ and the scheduled jobs under /staff/operations/ in the "core" namespace."""

from django.urls import include, path

from kaunti.core import views
from kaunti.core.metrics import views as metrics_views

staff_patterns = [
    path("jobs/<uuid:public_id>/", views.job_progress, name="job_progress"),
    path(
        "jobs/<uuid:public_id>/progress/",
        views.job_progress_fragment,
        name="job_progress_fragment",
    ),
    path("operations/jobs/", views.scheduled_jobs, name="scheduled_jobs"),
    path(
        "operations/jobs/<slug:entry_name>/run/",
        views.run_scheduled_job,
        name="run_scheduled_job",
    ),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", metrics_views.metrics, name="metrics"),
    path("verify/", views.verify_start, name="verify_start"),
    path("verify/<str:code>", views.verify_document, name="verify"),
    path("staff/", include((staff_patterns, "core"))),
]
