"""Writes of the USSD channel: a phone's language, and answering SMS commands."""

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from kaunti.accounts.services import set_preferred_language
from kaunti.core.identifiers import normalise_phone
from kaunti.core.services.notifications import queue_sms
from kaunti.ussd import sms_commands
from kaunti.ussd.models import InboundSms, PhoneLanguage
from kaunti.ussd.selectors import (
    LANGUAGE_CACHE_SECONDS,
    get_citizen_by_phone,
    get_phone_language,
    language_cache_key,
)


@transaction.atomic
def set_phone_language(*, phone: str, language: str) -> None:
    """Remember `phone`'s language for USSD and, if it has an account, for its SMS too."""
    if language not in ("en", "sw"):
        raise ValueError(f"unsupported language {language!r}")
    # One statement (an upsert), not a read then a write: a USSD step must stay quick.
    PhoneLanguage.objects.bulk_create(
        [PhoneLanguage(phone=phone, language=language)],
        update_conflicts=True,
        unique_fields=["phone"],
        update_fields=["language", "updated_at"],
    )
    citizen = get_citizen_by_phone(phone=phone)
    if citizen is not None:
        set_preferred_language(user=citizen, language=language)
    cache.set(language_cache_key(phone), language, LANGUAGE_CACHE_SECONDS)


def answer_inbound_sms(*, provider_message_id: str, sender: str, text: str) -> InboundSms | None:
    """Answer `STATUS <reference>` or `BAL <bill or parcel number>` texted to the shortcode.

    The answer goes by SMS through the outbox. A repeated delivery of the same message
    (same gateway id) answers nothing twice; None for a sender that is not a Kenyan mobile.
    """
    try:
        phone = normalise_phone(sender)
    except ValidationError:
        return None
    language = get_phone_language(phone=phone) or "en"
    command = sms_commands.parse(text)
    try:
        with transaction.atomic():
            inbound = InboundSms.objects.create(
                provider_message_id=provider_message_id[:100],
                sender=phone,
                text=text[:500],
                command=command.name,
            )
            reply = sms_commands.reply_for(command=command, phone=phone, language=language)
            message = queue_sms(
                to=phone, template="ussd_reply", context={"text": reply}, language=language
            )
            inbound.reply_id = message.public_id
            inbound.save(update_fields=["reply_id"])
    except IntegrityError:
        return InboundSms.objects.filter(provider_message_id=provider_message_id[:100]).first()
    return inbound
