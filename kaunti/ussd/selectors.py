"""Reads of the USSD channel: a phone's language and its citizen account."""

import hashlib
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache

from kaunti.ussd.models import PhoneLanguage

LANGUAGE_CACHE_SECONDS = 24 * 3600
_UNKNOWN = "-"


def language_cache_key(phone: str) -> str:
    return "ussd:language:" + hashlib.sha256(phone.encode()).hexdigest()[:32]


def get_phone_language(*, phone: str) -> str | None:
    """The language `phone` chose ("en" or "sw"), or None if it has never chosen."""
    key = language_cache_key(phone)
    cached = cache.get(key)
    if cached is None:
        cached = (
            PhoneLanguage.objects.filter(phone=phone).values_list("language", flat=True).first()
            or _UNKNOWN
        )
        cache.set(key, cached, LANGUAGE_CACHE_SECONDS)
    return None if cached == _UNKNOWN else str(cached)


def get_citizen_by_phone(*, phone: str) -> Any | None:
    """The active citizen account that holds `phone` (the caller's number), if any."""
    return get_user_model().objects.filter(phone=phone, kind="citizen", is_active=True).first()
