"""API routes of this app, mounted under /api/v1/ in the 'api' namespace."""

from django.urls import path

from kaunti.land import api

urlpatterns = [
    path("land/parcels/", api.ParcelListApi.as_view(), name="land-parcels"),
    path("land/parcels/<str:number>/", api.ParcelDetailApi.as_view(), name="land-parcel"),
    path(
        "land/parcels/<str:number>/statement/",
        api.ParcelStatementApi.as_view(),
        name="land-parcel-statement",
    ),
    path("land/map/", api.ParcelMapApi.as_view(), name="land-map"),
    path("land/ward-outlines/", api.WardOutlinesApi.as_view(), name="land-ward-outlines"),
    path("land/rolls/", api.RollListApi.as_view(), name="land-rolls"),
    path(
        "land/rolls/<uuid:public_id>/entries/",
        api.RollEntriesApi.as_view(),
        name="land-roll-entries",
    ),
    path("land/billing-runs/", api.BillingRunListApi.as_view(), name="land-billing-runs"),
    path(
        "land/billing-runs/<uuid:public_id>/",
        api.BillingRunDetailApi.as_view(),
        name="land-billing-run",
    ),
]
