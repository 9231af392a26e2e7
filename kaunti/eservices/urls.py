"""URLs of the e-services pages. Included by the project's urls.py at the root, namespace
"eservices"; each views module lists its own patterns."""

from django.urls import include, path

from kaunti.eservices import api_urls
from kaunti.eservices.views import citizen, complaints, staff

app_name = "eservices"

urlpatterns = [
    *citizen.urlpatterns,
    *staff.urlpatterns,
    *complaints.urlpatterns,
    # Until kaunti/urls.py includes these in api_v1 (see api_urls.py).
    path("api/v1/", include(api_urls.urlpatterns)),
]
