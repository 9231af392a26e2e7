"""Revenue streams, bills and their lines, and bill cancellations."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kaunti.core.language import in_language
from kaunti.core.models import Department, Ward
from kaunti.ledger.models import Account, JournalEntry


class RevenueStream(models.Model):
    """A line of the county's price list (its Finance Act): what a bill line charges for."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=150)
    name_sw = models.CharField(max_length=150, blank=True)
    account = models.OneToOneField(Account, on_delete=models.PROTECT, related_name="revenue_stream")
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="revenue_streams"
    )
    unit = models.CharField(max_length=40, blank=True, help_text="e.g. per bag, per day")
    unit_sw = models.CharField(max_length=40, blank=True, help_text="e.g. kwa gunia, kwa siku")
    unit_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    annual_target = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    is_miscellaneous = models.BooleanField(
        default=False,
        help_text="Revenue officers may raise bills for it directly (cess, market fees...).",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.localized_name

    @property
    def localized_name(self) -> str:
        return in_language(self.name, self.name_sw)

    def display_name(self, language: str) -> str:
        return in_language(self.name, self.name_sw, language)

    @property
    def localized_unit(self) -> str:
        return in_language(self.unit, self.unit_sw)


class BillStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PARTLY_PAID = "partly_paid", _("Partly paid")
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", _("Cancelled")


class Bill(models.Model):
    """What a payer owes the county. Its number is the M-Pesa account reference.

    `source_type`/`source_ref` point, opaquely, at whatever raised it (an application, a
    parcel's rates); the owning app's settlement handler runs when it is paid.
    """

    # Every index is here for a query that needs it (Meta's, and `department`'s for the
    # staff's lists): a year's land rates add a million bills at once, and each index
    # costs that run a million inserts more.
    number = models.CharField(max_length=12)
    payer_name = models.CharField(max_length=150)
    payer_phone = models.CharField(max_length=12, blank=True)
    payer_id_number = models.CharField(max_length=20, blank=True)
    payer_kra_pin = models.CharField(max_length=11, blank=True)
    payer_key = models.CharField(max_length=40)  # credits are looked up on PayerCredit
    payer_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bills",
        db_index=False,
    )
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="bills")
    # No index: no query looks bills up by ward (reports read `DailyCollection`), and a
    # ward, reference data, is never deleted.
    ward = models.ForeignKey(
        Ward,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bills",
        db_index=False,
    )
    description = models.CharField(max_length=200)
    # The same words in Kiswahili (ADR 15); a database default so bulk loads that predate
    # it still insert. Empty on bills raised before it: they show their English.
    description_sw = models.CharField(max_length=200, blank=True, default="", db_default="")
    due_on = models.DateField()
    status = models.CharField(max_length=12, choices=BillStatus.choices, default=BillStatus.OPEN)
    total = models.DecimalField(max_digits=14, decimal_places=2)
    paid = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    source_type = models.CharField(max_length=40, blank=True)
    source_ref = models.CharField(max_length=80, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # A plain unique index: bills are found by their whole number, never by a
            # prefix, so no `varchar_pattern_ops` copy (what `unique=True` adds).
            models.UniqueConstraint(fields=["number"], name="bill_number_unique"),
            models.CheckConstraint(condition=Q(total__gt=0), name="bill_total_positive"),
            models.CheckConstraint(
                condition=Q(paid__gte=0) & Q(paid__lte=F("total")), name="bill_paid_within_total"
            ),
            models.UniqueConstraint(
                fields=["source_type", "source_ref"],
                condition=~Q(source_type="") & ~Q(status="cancelled"),
                name="bill_one_live_per_source",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_on"], name="bill_status_due_idx"),
            # Partial: most bills (all rates bills) have no signed-in payer and no creator.
            # They serve a citizen's bills and the checks when a user is deleted.
            models.Index(
                fields=["payer_user"],
                condition=Q(payer_user__isnull=False),
                name="bill_payer_user_idx",
            ),
            models.Index(
                fields=["created_by"],
                condition=Q(created_by__isnull=False),
                name="bill_created_by_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def localized_description(self) -> str:
        return in_language(self.description, self.description_sw)

    @property
    def balance(self) -> Decimal:
        return self.total - self.paid


class BillLine(models.Model):
    """One charge on a bill, for one revenue stream."""

    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="lines")
    # No index: lines are read by bill; collections by stream are kept in `DailyCollection`.
    stream = models.ForeignKey(
        RevenueStream, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    description = models.CharField(max_length=200)
    description_sw = models.CharField(max_length=200, blank=True, default="", db_default="")
    quantity = models.DecimalField(max_digits=12, decimal_places=2, default=1)
    unit_price = models.DecimalField(max_digits=14, decimal_places=2)
    amount = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="bill_line_amount_positive")
        ]

    def __str__(self) -> str:
        return f"{self.description}: {self.amount}"

    @property
    def localized_description(self) -> str:
        return in_language(self.description, self.description_sw)


class BillCancellation(models.Model):
    """An unpaid bill withdrawn, with the reason; its raising entry is reversed."""

    bill = models.OneToOneField(Bill, on_delete=models.PROTECT, related_name="cancellation")
    reason = models.CharField(max_length=255)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    reversal_entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="+")
    cancelled_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"cancellation of {self.bill}"
