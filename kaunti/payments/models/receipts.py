"""Payments through every channel, their allocations to bills, payer credits, and the
gapless receipts (with their cancellations)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kaunti.ledger.models import JournalEntry
from kaunti.payments.models.bills import Bill


class Channel(models.TextChoices):
    MPESA_STK = "mpesa_stk", _("M-Pesa (prompt on phone)")
    MPESA_PAYBILL = "mpesa_paybill", _("M-Pesa paybill")
    CASH = "cash", _("Cash")
    BANK = "bank", _("Bank deposit")
    CHEQUE = "cheque", _("Cheque")
    CREDIT = "credit", _("Payer credit")


class Payment(models.Model):
    """Money received, once: (`provider`, `external_ref`) is unique, so a repeat is a no-op.

    A payment whose bill cannot be found is held in suspense until an officer assigns it.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    provider = models.CharField(max_length=20)  # mpesa-stk, mpesa-c2b, counter
    external_ref = models.CharField(max_length=64)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    paid_at = models.DateTimeField()
    account_reference = models.CharField(
        max_length=40, blank=True, help_text="What the payer typed."
    )
    mpesa_receipt = models.CharField(max_length=20, blank=True)
    payer_phone = models.CharField(max_length=64, blank=True)
    payer_name = models.CharField(max_length=150, blank=True)
    bill = models.ForeignKey(
        Bill, on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    is_in_suspense = models.BooleanField(default=False)
    journal_entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="+")
    # Partial indexes (Meta) for these two: only counter payments have them.
    till_session = models.ForeignKey(
        "TillSession",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        db_index=False,
    )
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    raw = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-paid_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_ref"], name="payment_once_per_reference"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
        ]
        # Indexes rather than `db_index=True`, which on PostgreSQL adds a pattern-matching
        # copy of a text column: each is one more write for every payment recorded.
        indexes = [
            models.Index(fields=["is_in_suspense", "paid_at"], name="payment_suspense_idx"),
            models.Index(fields=["mpesa_receipt"], name="payment_mpesa_receipt_idx"),
            models.Index(
                fields=["till_session"],
                name="payment_till_session_idx",
                condition=Q(till_session__isnull=False),
            ),
            models.Index(
                fields=["received_by"],
                name="payment_received_by_idx",
                condition=Q(received_by__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.external_ref} {self.amount}"


class Allocation(models.Model):
    """Part of a payment (or of a payer's credit) applied to a bill; negative when reversed."""

    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="allocations"
    )
    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="allocations")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    from_credit = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="allocation_not_zero")]

    def __str__(self) -> str:
        return f"{self.amount} to {self.bill_id}"


class PayerCredit(models.Model):
    """A movement on a payer's credit: + from an overpayment, - when a later bill uses it."""

    payer_key = models.CharField(max_length=40)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    bill = models.ForeignKey(
        Bill, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["payer_key"], name="payer_credit_payer_idx")]

    def __str__(self) -> str:
        return f"{self.payer_key} {self.amount}"


class ReceiptSequence(models.Model):
    """The last receipt number issued in a financial year (July to June), for gapless numbers."""

    financial_year = models.PositiveSmallIntegerField(
        unique=True, help_text="2026 for July 2026 to June 2027"
    )
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"FY{self.financial_year}: {self.last_number}"


class Receipt(models.Model):
    """The receipt for one payment, numbered without gaps within its financial year."""

    number = models.CharField(max_length=20)
    financial_year = models.PositiveSmallIntegerField()
    sequence = models.PositiveIntegerField()
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="receipt")
    verification_code = models.CharField(max_length=16)
    issued_at = models.DateTimeField()

    class Meta:
        ordering = ["-issued_at"]
        # Named constraints, not `unique=True` (no pattern-matching index copies).
        constraints = [
            models.UniqueConstraint(fields=["number"], name="receipt_number_unique"),
            models.UniqueConstraint(fields=["verification_code"], name="receipt_code_unique"),
            models.UniqueConstraint(
                fields=["financial_year", "sequence"], name="receipt_sequence_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class ReceiptCancellation(models.Model):
    """A supervisor's cancellation of a receipt; its money is reversed, nothing is deleted."""

    receipt = models.OneToOneField(Receipt, on_delete=models.PROTECT, related_name="cancellation")
    reason = models.CharField(max_length=255)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reversal_entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="+")
    cancelled_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"cancellation of {self.receipt}"
