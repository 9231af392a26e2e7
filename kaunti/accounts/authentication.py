"""API authentication by `Authorization: Token <key>`, the key looked up by its digest."""

import hashlib
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from kaunti.accounts.models import ApiToken


def token_digest(key: str) -> str:
    """What is stored of an API key: its SHA-256, in hex."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiTokenAuthentication(TokenAuthentication):
    """DRF's token scheme (same header, same answers), against `ApiToken` digests."""

    model = ApiToken

    def authenticate_credentials(self, key: str) -> tuple[Any, ApiToken]:
        token = ApiToken.objects.select_related("user").filter(digest=token_digest(key)).first()
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return token.user, token
