"""The USSD channel's own tables: each phone's language, and the SMS people text us."""

from django.db import models


class PhoneLanguage(models.Model):
    """The language a phone number chose on its first USSD session, asked once, kept."""

    phone = models.CharField(max_length=12, unique=True)
    language = models.CharField(max_length=5)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(language__in=["en", "sw"]), name="phone_language_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.phone}: {self.language}"


class InboundSms(models.Model):
    """One SMS texted to the county's shortcode; the gateway's id makes a repeat a no-op."""

    provider_message_id = models.CharField(max_length=100, unique=True)
    sender = models.CharField(max_length=12)
    text = models.CharField(max_length=500)
    command = models.CharField(max_length=20, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    reply_id = models.UUIDField(null=True, blank=True)  # the outbox message that answered

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.command or 'unknown'} from {self.sender}"
