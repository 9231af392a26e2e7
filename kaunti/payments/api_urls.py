"""API routes of this app, mounted under /api/v1/ in the 'api' namespace."""

from django.urls import path

from kaunti.payments import api

urlpatterns = [
    path("bills/", api.BillListApi.as_view(), name="bills"),
    path("bills/<str:number>/", api.BillDetailApi.as_view(), name="bill"),
    path("payments/stk/", api.StkPushApi.as_view(), name="stk-push"),
    path("payments/stk/<uuid:public_id>/", api.StkStatusApi.as_view(), name="stk-status"),
    path("receipts/<str:number>/", api.ReceiptApi.as_view(), name="receipt"),
    path("reports/revenue/", api.RevenueReportApi.as_view(), name="revenue-report"),
]
