"""API routes of this app, mounted under /api/v1/ in the 'api' namespace."""

from django.urls import path

from kaunti.ledger import api

urlpatterns = [
    path("ledger/trial-balance/", api.TrialBalanceApi.as_view(), name="trial-balance"),
]
