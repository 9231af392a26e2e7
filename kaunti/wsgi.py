import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kaunti.settings")
django_application = get_wsgi_application()

# Paybill confirmations skip Django's request handling (ADR 8); imported once the apps load.
from kaunti.payments.lane import PaybillConfirmationLane  # noqa: E402

application = PaybillConfirmationLane(django_application)
