"""The double-entry revenue ledger: chart of accounts, periods, balanced immutable entries."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kaunti.core.language import in_language
from kaunti.core.models import Ward


class AccountType(models.TextChoices):
    ASSET = "asset", _("Asset")
    LIABILITY = "liability", _("Liability")
    EQUITY = "equity", _("Equity")
    REVENUE = "revenue", _("Revenue")
    EXPENSE = "expense", _("Expense")


DEBIT_NORMAL = {AccountType.ASSET, AccountType.EXPENSE}


class Account(models.Model):
    """An account of the county's chart (revenue heads carry their SCOA/IFMIS item code)."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=150)
    name_sw = models.CharField(max_length=150, blank=True)
    type = models.CharField(max_length=10, choices=AccountType.choices)
    gl_item_code = models.CharField(
        max_length=20, blank=True, help_text="IFMIS/SCOA item code, from the county's chart."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.localized_name}"

    @property
    def localized_name(self) -> str:
        return in_language(self.name, self.name_sw)

    @property
    def is_debit_normal(self) -> bool:
        return self.type in DEBIT_NORMAL


class AccountingPeriod(models.Model):
    """A calendar month of the books; once closed, nothing more may be posted into it."""

    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["year", "month"]
        constraints = [
            models.UniqueConstraint(fields=["year", "month"], name="period_unique_month"),
            models.CheckConstraint(
                condition=Q(month__gte=1, month__lte=12), name="period_month_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year}-{self.month:02d}"

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class JournalEntry(models.Model):
    """A balanced set of debits and credits; never edited, corrected only by a reversal.

    `source_type`/`source_ref` name what the entry records (e.g. a receipt number), and
    together are unique, so posting the same thing twice is refused by the database.
    """

    posted_on = models.DateField(db_index=True)
    posted_at = models.DateTimeField(auto_now_add=True)
    memo = models.CharField(max_length=255)
    source_type = models.CharField(max_length=40)
    source_ref = models.CharField(max_length=80)
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # partial index below: entries posted by the system have no user
    )

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "journal entries"
        constraints = [
            models.UniqueConstraint(
                fields=["source_type", "source_ref"], name="journal_entry_source_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_by"],
                name="journal_entry_created_by_idx",
                condition=models.Q(created_by__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"JE{self.pk} {self.memo}"


class JournalLine(models.Model):
    """One debit or one credit of an entry, with the dimensions reports group by."""

    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    # Indexed by (account, entry) below, which also serves lookups by account alone.
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="lines", db_index=False
    )
    debit = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    credit = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    ward = models.ForeignKey(
        Ward, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # Exactly one side carries a positive amount.
            models.CheckConstraint(
                condition=(Q(debit__gt=0) & Q(credit=0)) | (Q(credit__gt=0) & Q(debit=0)),
                name="journal_line_one_side",
            ),
        ]
        indexes = [models.Index(fields=["account", "entry"], name="journal_line_account_idx")]

    def __str__(self) -> str:
        side = f"Dr {self.debit}" if self.debit else f"Cr {self.credit}"
        return f"{self.account.code} {side}"
