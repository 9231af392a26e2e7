"""URLs of the land pages. Included by the project's urls.py at the root, namespace
"land"; each views module lists its own patterns (staff pages under /staff/land/, the
public balance check under /land/)."""

from kaunti.land.views import billing, maps, parcels, public, rating, rolls

app_name = "land"

urlpatterns = (
    parcels.urlpatterns
    + maps.urlpatterns
    + rolls.urlpatterns
    + rating.urlpatterns
    + billing.urlpatterns
    + public.urlpatterns
)
