"""API routes of the kernel, mounted under /api/v1/ in the 'api' namespace."""

from django.urls import path

from kaunti.core import api

urlpatterns = [
    path("wards/", api.WardListApi.as_view(), name="wards"),
    path("departments/", api.DepartmentListApi.as_view(), name="departments"),
    path("jobs/<uuid:public_id>/", api.JobApi.as_view(), name="job"),
]
