"""M-Pesa: STK prompts, and the callbacks Safaricom sends, stored raw before they are
applied (with the flag that keeps one paybill drain queued at a time)."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kaunti.payments.models.bills import Bill
from kaunti.payments.models.receipts import Payment


class StkStatus(models.TextChoices):
    REQUESTED = "requested", _("Sending the prompt")
    PENDING = "pending", _("Waiting for the payer")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Not paid")
    ERROR = "error", _("Could not send the prompt")
    # M-Pesa reported a payment that does not match the prompt (another amount, a receipt
    # number of another shape): an officer decides, and the periodic query leaves it alone.
    REVIEW = "review", _("Being checked")


class StkRequest(models.Model):
    """An M-Pesa prompt sent to a phone for a bill, followed until it is paid or fails."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="stk_requests")
    phone = models.CharField(max_length=12)
    amount = models.PositiveIntegerField()
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    checkout_request_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    merchant_request_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=StkStatus.choices, default=StkStatus.REQUESTED)
    result_code = models.CharField(max_length=10, blank=True)
    result_desc = models.CharField(max_length=255, blank=True)
    payment = models.OneToOneField(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    initiated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=10, default="web")
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    query_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="stk_status_idx")]

    def __str__(self) -> str:
        return f"STK {self.checkout_request_id or self.public_id} ({self.status})"


class CallbackStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    DUPLICATE = "duplicate", _("Duplicate")
    WAITING = "waiting", _("Waiting for its request")
    MALFORMED = "malformed", _("Malformed")
    REVIEW = "review", _("Needs review")


class InboundCallback(models.Model):
    """Every payload a payment provider sends us, kept raw, whatever happens to it next."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(
        max_length=30
    )  # mpesa_stk, mpesa_c2b_validation, mpesa_c2b_confirmation
    reference = models.CharField(max_length=64, blank=True)  # CheckoutRequestID or TransID
    body = models.TextField()
    # The bytes as they came, when `body` cannot hold them exactly (a NUL byte, which
    # PostgreSQL refuses in text, or bytes that are not UTF-8); null otherwise.
    raw_body = models.BinaryField(null=True, blank=True)
    remote_addr = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=10, choices=CallbackStatus.choices, default=CallbackStatus.RECEIVED
    )
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["status", "received_at"], name="callback_status_idx"),
            models.Index(fields=["reference"], name="callback_reference_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.received_at:%Y-%m-%d %H:%M:%S} ({self.status})"


class CallbackDrain(models.Model):
    """Whether a drain of stored callbacks is queued: set by the callback that queues one,
    cleared by the drain when it has taken everything (see `mpesa.receive`)."""

    name = models.CharField(max_length=20, primary_key=True)
    scheduled_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} drain scheduled at {self.scheduled_at}"
