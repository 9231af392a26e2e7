"""URLs of the e-services pages and API (the pages and the API are still to be written).

Included by the project's urls.py under its own prefix, namespace "eservices".
"""

from django.urls import URLPattern, URLResolver

app_name = "eservices"

urlpatterns: list[URLPattern | URLResolver] = []
