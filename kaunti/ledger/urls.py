"""The ledger's staff pages, under /staff/ledger/."""

from django.urls import path

from kaunti.ledger import views

app_name = "ledger"

urlpatterns = [
    path("", views.trial_balance, name="trial_balance"),
    path("accounts/<str:code>/", views.account_statement, name="account_statement"),
    path("periods/", views.periods, name="periods"),
    path("periods/close/", views.close_period, name="close_period"),
]
