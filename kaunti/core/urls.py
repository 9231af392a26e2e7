"""The kernel's staff pages, mounted under /staff/jobs/ by kaunti/urls.py."""

from django.urls import path

from kaunti.core import views

app_name = "core"

urlpatterns = [
    path("<uuid:public_id>/", views.job_progress, name="job_progress"),
    path("<uuid:public_id>/progress/", views.job_progress_fragment, name="job_progress_fragment"),
]
