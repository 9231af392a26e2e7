"""API routes of this app, mounted under /api/v1/ in the 'api' namespace."""

from django.urls import path

from kaunti.accounts import api

urlpatterns = [
    path("me/", api.MeApi.as_view(), name="me"),
]
