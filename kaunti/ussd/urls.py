from django.urls import path

from kaunti.ussd import views

app_name = "ussd"

urlpatterns = [
    path("ussd/africastalking/", views.africastalking_ussd, name="africastalking_ussd"),
    path(
        "sms/africastalking/delivery/",
        views.africastalking_delivery_report,
        name="africastalking_delivery",
    ),
    path(
        "sms/africastalking/inbound/",
        views.africastalking_inbound_sms,
        name="africastalking_inbound",
    ),
    path("staff/sms/undelivered/", views.undelivered_sms, name="undelivered_sms"),
    path("staff/sms/<uuid:public_id>/retry/", views.retry_sms, name="retry_sms"),
]
