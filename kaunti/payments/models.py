"""Bills, payments through every channel, allocations, receipts, credits and tills.

Money rows are never edited or deleted: a mistake is undone by a reversal row (a
negative allocation, a cancellation, a reversing journal entry).
"""

import uuid
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


class TillStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class TillSession(models.Model):
    """A cashier's shift at the counter: opened with a float, closed with a count."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    cashier = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="till_sessions"
    )
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    opening_float = models.DecimalField(max_digits=14, decimal_places=2)
    opened_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=6, choices=TillStatus.choices, default=TillStatus.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    counted_cash = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    expected_cash = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    variance = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["cashier"], condition=Q(status="open"), name="till_one_open_per_cashier"
            ),
        ]

    def __str__(self) -> str:
        return f"till of {self.cashier} opened {self.opened_at:%Y-%m-%d %H:%M}"


class DailyCollection(models.Model):
    """Collections per day, stream, ward and channel, kept as payments post (for fast reports)."""

    day = models.DateField()
    stream = models.ForeignKey(RevenueStream, on_delete=models.PROTECT, related_name="+")
    ward_code = models.CharField(max_length=10, blank=True)  # "" when the bill has no ward
    channel = models.CharField(max_length=20, choices=Channel.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "stream", "ward_code", "channel"], name="daily_collection_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["day"], name="daily_collection_day_idx"),
            # A report by day for one ward or one channel reads only its own rows, from
            # the index alone (each page of the table holds every ward and channel).
            models.Index(
                fields=["ward_code", "day"],
                include=["stream", "channel", "amount", "count"],
                name="daily_collection_ward_idx",
            ),
            models.Index(
                fields=["channel", "day"],
                include=["stream", "ward_code", "amount", "count"],
                name="daily_collection_channel_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.stream_id} {self.channel}: {self.amount}"


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


class MonthlyCollection(models.Model):
    """Collections per month, stream, ward and channel, for reports over many months.

    Kept by the database, not by Python: a trigger on `DailyCollection` (migration
    payments 0002) adds every change of a daily row to its month's row in the same
    transaction, so the two always agree. A year's report then reads about 22,500 rows
    instead of 685,000 (bench/reports/README.md). `month` is the first day of the month.
    """

    month = models.DateField()
    stream = models.ForeignKey(RevenueStream, on_delete=models.PROTECT, related_name="+")
    ward_code = models.CharField(max_length=10, blank=True)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "stream", "ward_code", "channel"],
                name="monthly_collection_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.stream_id} {self.channel}: {self.amount}"


class DailyStreamCollection(models.Model):
    """Collections per day and stream (every ward and channel), for reports by day.

    Kept by the database like `MonthlyCollection`: a trigger on `DailyCollection`
    (migration payments 0004) adds every change of a daily row to its day and stream's row
    in the same transaction. A year's report by day then reads about 5,500 rows instead of
    685,000 (bench/reports/README.md).
    """

    day = models.DateField()
    stream = models.ForeignKey(RevenueStream, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "stream"], name="daily_stream_collection_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.stream_id}: {self.amount}"
