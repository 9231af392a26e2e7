"""Reconciliation: imported bank and M-Pesa statements, and their lines matched to payments."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kaunti.payments.models.receipts import Payment


class StatementKind(models.TextChoices):
    MPESA = "mpesa", _("M-Pesa organisation statement")
    BANK = "bank", _("Bank statement")


class StatementImport(models.Model):
    """One statement file (M-Pesa paybill or bank) imported for reconciliation, as it came.

    Rows that could not be read are kept in `errors` (row number and reason) rather than
    dropped, and rows that are not receipts (withdrawals, charges, failed transactions)
    are counted in `skipped_count`, so every row of the file is accounted for.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=10, choices=StatementKind.choices)
    file_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64)
    bank_code = models.CharField(
        max_length=20, blank=True, help_text="The bank of the account, for a bank statement."
    )
    period_start = models.DateField()
    period_end = models.DateField()
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    imported_at = models.DateTimeField(auto_now_add=True)
    row_count = models.PositiveIntegerField(help_text="Data rows in the file.")
    line_count = models.PositiveIntegerField(help_text="Receipts kept as statement lines.")
    skipped_count = models.PositiveIntegerField(help_text="Rows that are not receipts.")
    error_count = models.PositiveIntegerField(help_text="Rows that could not be read.")
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-imported_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "file_sha256"], name="statement_import_file_once"
            ),
            models.CheckConstraint(
                condition=Q(period_start__lte=F("period_end")),
                name="statement_import_period_ordered",
            ),
            models.CheckConstraint(
                condition=Q(kind="mpesa", bank_code="") | (Q(kind="bank") & ~Q(bank_code="")),
                name="statement_import_bank_named",
            ),
            models.CheckConstraint(
                condition=Q(row_count__gte=F("line_count") + F("skipped_count") + F("error_count")),
                name="statement_import_rows_accounted",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period_start} to {self.period_end}"


class MatchStatus(models.TextChoices):
    MATCHED = "matched", _("Matched")
    AMOUNT_MISMATCH = "amount_mismatch", _("Amount differs")
    MISSING_IN_KAUNTI = "missing_in_kaunti", _("Missing in Kaunti")


class LineDecision(models.TextChoices):
    NONE = "", _("Not reviewed")
    RECORDED = "recorded", _("Recorded in Kaunti")
    IGNORED = "ignored", _("Ignored")


class StatementLine(models.Model):
    """One receipt of an imported statement and how it compares with Kaunti's payments.

    `status` is the result of matching at import and never changes; an officer's review
    of an unmatched line is the `decision`, made once and audited.
    """

    statement = models.ForeignKey(StatementImport, on_delete=models.PROTECT, related_name="lines")
    row_number = models.PositiveIntegerField(help_text="Row in the file, the header being row 1.")
    reference = models.CharField(max_length=64)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    occurred_on = models.DateField()
    occurred_at = models.DateTimeField(null=True, blank=True)
    details = models.CharField(max_length=255, blank=True)
    account_number = models.CharField(max_length=64, blank=True, help_text="What the payer typed.")
    payer = models.CharField(max_length=150, blank=True)
    status = models.CharField(max_length=20, choices=MatchStatus.choices)
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision = models.CharField(
        max_length=10, choices=LineDecision.choices, default=LineDecision.NONE, blank=True
    )
    decision_reason = models.CharField(max_length=255, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["row_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "row_number"], name="statement_line_row_once"
            ),
            models.UniqueConstraint(
                fields=["statement", "reference"], name="statement_line_reference_once"
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="statement_line_amount_positive"
            ),
            models.CheckConstraint(
                condition=~Q(decision="ignored") | ~Q(decision_reason=""),
                name="statement_line_ignored_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["statement", "status"], name="statement_line_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.amount} ({self.status})"
