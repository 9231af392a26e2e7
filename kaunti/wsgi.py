import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kaunti.settings")
django_application = get_wsgi_application()

# Safaricom's callbacks skip Django's middleware, paybill confirmations its request
# handling too (ADR 8); imported once the apps load.
from django.conf import settings  # noqa: E402

from kaunti.core.proxy import ClientAddressFromProxy  # noqa: E402
from kaunti.payments.lane import SafaricomCallbackLane  # noqa: E402

# Behind nginx, the client's address comes from nginx's header (deploy/nginx/kaunti.conf).
application = ClientAddressFromProxy(
    SafaricomCallbackLane(django_application),
    header=settings.PROXY_CLIENT_ADDRESS_HEADER,
    trusted=settings.FORWARDED_ALLOW_IPS,
)
