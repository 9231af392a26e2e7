"""URLs of the e-services pages. Included by the project's urls.py at the root, namespace
"eservices"; each views module lists its own patterns."""

from kaunti.eservices.views import applying, citizen, complaints, staff

app_name = "eservices"

urlpatterns = [
    *citizen.urlpatterns,
    *applying.urlpatterns,
    *staff.urlpatterns,
    *complaints.urlpatterns,
]
