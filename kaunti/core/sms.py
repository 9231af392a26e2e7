"""SMS backends: console (default), file (one JSON line a message), Africa's Talking.

Every backend answers `send(to=..., message=...)` with a `SentSms` (the provider's id, if
any) or raises `SmsError`; the outbox decides whether to retry.
"""

import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
from django.conf import settings
from django.utils import timezone

from kaunti.core.identifiers import as_e164

logger = logging.getLogger(__name__)

AT_PRODUCTION_URL = "https://api.africastalking.com"
AT_SANDBOX_URL = "https://api.sandbox.africastalking.com"
# Africa's Talking per-recipient codes 100 (Processed), 101 (Sent), 102 (Queued) mean accepted.
AT_ACCEPTED_CODES = {100, 101, 102}


class SmsError(Exception):
    """The message was not accepted; `retryable` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class SentSms:
    provider_message_id: str = ""


class ConsoleSmsBackend:
    def send(self, *, to: str, message: str) -> SentSms:
        sys.stdout.write(f"[SMS to {as_e164(to)}] {message}\n")
        sys.stdout.flush()
        return SentSms()


class FileSmsBackend:
    """Appends each message as one JSON line; demos and browser tests read codes from it."""

    def __init__(self, path: str | None = None) -> None:
        self.path = Path(path or settings.SMS_FILE_PATH)

    def send(self, *, to: str, message: str) -> SentSms:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"to": to, "message": message, "at": timezone.now().isoformat()})
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
        return SentSms()


class AfricasTalkingSmsBackend:
    """Africa's Talking bulk SMS: POST /version1/messaging, form-encoded, `apiKey` header."""

    def __init__(
        self,
        *,
        username: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        sender_id: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.username = username if username is not None else settings.AFRICASTALKING_USERNAME
        self.api_key = api_key if api_key is not None else settings.AFRICASTALKING_API_KEY
        default_url = AT_SANDBOX_URL if self.username == "sandbox" else AT_PRODUCTION_URL
        self.base_url = (base_url or settings.AFRICASTALKING_BASE_URL or default_url).rstrip("/")
        self.sender_id = sender_id if sender_id is not None else settings.SMS_SENDER_ID
        self.transport = transport

    def send(self, *, to: str, message: str) -> SentSms:
        form = {
            "username": self.username,
            "to": as_e164(to),
            "message": message,
            "bulkSMSMode": "1",
        }
        if self.sender_id:
            form["from"] = self.sender_id
        headers = {"apiKey": self.api_key, "Accept": "application/json"}
        try:
            with httpx.Client(timeout=10.0, transport=self.transport) as client:
                response = client.post(
                    f"{self.base_url}/version1/messaging", data=form, headers=headers
                )
        except httpx.HTTPError as exc:
            raise SmsError(f"Africa's Talking unreachable: {exc}") from exc
        if response.status_code == 401:
            raise SmsError("Africa's Talking refused the API key", retryable=False)
        if response.status_code >= 500:
            raise SmsError(f"Africa's Talking answered HTTP {response.status_code}")
        if response.status_code not in (200, 201):
            raise SmsError(
                f"Africa's Talking answered HTTP {response.status_code}: {response.text[:200]}",
                retryable=False,
            )
        try:
            data = response.json()["SMSMessageData"]
            recipients = data.get("Recipients") or []
        except (ValueError, KeyError, TypeError) as exc:
            raise SmsError(
                f"Africa's Talking sent an unreadable answer: {response.text[:200]}"
            ) from exc
        if not recipients:
            raise SmsError(
                f"Africa's Talking sent nothing: {data.get('Message', '')}", retryable=False
            )
        recipient = recipients[0]
        code = int(recipient.get("statusCode", 0))
        if code not in AT_ACCEPTED_CODES:
            # 5xx codes are the gateway's trouble; 4xx ones (bad number, blacklist) will not heal.
            raise SmsError(
                f"Africa's Talking: {recipient.get('status')} ({code})", retryable=code >= 500
            )
        return SentSms(provider_message_id=str(recipient.get("messageId", "")))


SmsBackend = ConsoleSmsBackend | FileSmsBackend | AfricasTalkingSmsBackend


def get_sms_backend() -> SmsBackend:
    name = settings.SMS_BACKEND
    if name == "console":
        return ConsoleSmsBackend()
    if name == "file":
        return FileSmsBackend()
    if name == "africastalking":
        return AfricasTalkingSmsBackend()
    raise ValueError(f"unknown SMS_BACKEND {name!r}: use console, file or africastalking")
