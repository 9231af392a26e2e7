import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kaunti.settings")
django_application = get_wsgi_application()

# Safaricom's callbacks skip Django's middleware, paybill confirmations its request
# handling too (ADR 8); imported once the apps load.
from kaunti.payments.lane import SafaricomCallbackLane  # noqa: E402

application = SafaricomCallbackLane(django_application)
