"""The notification outbox: queue in the caller's transaction, send after commit.

A message is rendered from `templates/notifications/<template>.<language>.txt` (first
line `Subject: ...` for email). Writing the row in the same transaction as the change it
reports means a rolled-back change sends nothing and a committed one is never forgotten:
the task is enqueued on commit, and a periodic sweep picks up anything still due.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template import Context, Engine
from django.utils import timezone, translation

from kaunti.core.bulk import insert_objects
from kaunti.core.identifiers import normalise_phone
from kaunti.core.models import Channel, OutboxMessage
from kaunti.core.services.jobs import enqueue_on_commit

SUPPORTED_LANGUAGES = ("en", "sw")


def _render(template: str, language: str, context: Mapping[str, Any]) -> tuple[str, str]:
    if language not in SUPPORTED_LANGUAGES:
        language = settings.LANGUAGE_CODE
    # Plain text, not HTML: no escaping, so "O'Brien & Sons" reaches the phone as written.
    text_template = Engine.get_default().get_template(f"notifications/{template}.{language}.txt")
    with translation.override(language):
        text = text_template.render(Context(dict(context), autoescape=False)).strip()
    subject = ""
    if text.startswith("Subject:"):
        first, _, text = text.partition("\n")
        subject = first.removeprefix("Subject:").strip()
    return subject, text.strip()


def _enqueue_on_commit(messages: Sequence[OutboxMessage]) -> None:
    """Queue the sending once the messages are committed (by task name: tasks import this
    module, never the other way round)."""
    message_ids = [str(message.public_id) for message in messages]
    if len(message_ids) == 1:
        enqueue_on_commit("kaunti.core.tasks.send_notification", message_ids[0])
    elif message_ids:
        enqueue_on_commit("kaunti.core.tasks.send_notifications", message_ids)


@dataclass(frozen=True)
class Sms:
    """One SMS to queue: a Kenyan mobile number, a template, its context and language."""

    to: str
    template: str
    context: Mapping[str, Any]
    language: str


def queue_sms_many(messages: Sequence[Sms]) -> list[OutboxMessage]:
    """Queue several SMS at once (the batch form of `queue_sms`): one task sends them all."""
    now = timezone.now()
    rows = insert_objects(
        OutboxMessage(
            channel=Channel.SMS,
            recipient=normalise_phone(sms.to),
            body=_render(sms.template, sms.language, sms.context)[1],
            template=sms.template,
            language=sms.language,
            next_attempt_at=now,
        )
        for sms in messages
    )
    _enqueue_on_commit(rows)
    return rows


def queue_sms(
    *, to: str, template: str, context: Mapping[str, Any], language: str
) -> OutboxMessage:
    """Queue an SMS to a Kenyan mobile number, sent once the current transaction commits."""
    return queue_sms_many([Sms(to, template, context, language)])[0]


def queue_email(
    *, to: str, template: str, context: Mapping[str, Any], language: str
) -> OutboxMessage:
    """Queue an email, sent once the current transaction commits."""
    subject, body = _render(template, language, context)
    message = OutboxMessage.objects.create(
        channel=Channel.EMAIL,
        recipient=to,
        subject=subject,
        body=body,
        template=template,
        language=language,
        next_attempt_at=timezone.now(),
    )
    _enqueue_on_commit([message])
    return message
