"""The payments app's pages: each views module lists its own URL patterns."""

from kaunti.payments.views import callbacks, citizen, counter, reconciliation, reports, staff

app_name = "payments"

urlpatterns = (
    callbacks.urlpatterns
    + staff.urlpatterns
    + counter.urlpatterns
    + reports.urlpatterns
    + reconciliation.urlpatterns
    + citizen.urlpatterns
)
