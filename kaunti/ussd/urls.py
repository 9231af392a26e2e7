from django.urls import path  # noqa: F401

app_name = "ussd"

urlpatterns: list = []
