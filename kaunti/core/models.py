"""The shared kernel's tables: geography, departments, the audit chain, the outbox, jobs and
the runs of scheduled jobs."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kaunti.core.language import in_language


class County(models.Model):
    """One of the 47 counties (Constitution, First Schedule), with its code 001-047."""

    code = models.CharField(max_length=3, unique=True)
    name = models.CharField(max_length=60, unique=True)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "counties"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class SubCounty(models.Model):
    """A devolved sub-county of a county (coterminous with a constituency); IEBC code."""

    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="sub_counties")
    code = models.CharField(max_length=10)
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "sub-counties"
        constraints = [
            models.UniqueConstraint(
                fields=["county", "code"], name="subcounty_code_unique_in_county"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Ward(models.Model):
    """A county assembly ward (IEBC code), the smallest unit services are routed by."""

    sub_county = models.ForeignKey(SubCounty, on_delete=models.PROTECT, related_name="wards")
    code = models.CharField(max_length=10, unique=True)
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    """A department (or directorate) of the county executive; staff roles are scoped to one."""

    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=150)
    name_sw = models.CharField(max_length=150, blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="directorates"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.localized_name

    @property
    def localized_name(self) -> str:
        return in_language(self.name, self.name_sw)

    def display_name(self, language: str) -> str:
        return in_language(self.name, self.name_sw, language)


class AuditEvent(models.Model):
    """One link of the append-only audit chain: who did what to which thing, and when.

    A writer inserts the event unsealed (`seq`, `previous_hash` and `hash` empty), taking
    no lock; the sequencer (`kaunti.core.services.audit.seal_pending_events`) then gives it
    its place in the chain and the hash of the event before it (ADR 19). An edit, deletion
    or reordering of sealed events breaks the chain (`manage.py verify_audit` names where).
    On PostgreSQL a trigger refuses DELETE and every UPDATE but that one sealing.
    """

    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        db_index=False,  # a partial index below: most events of a busy day are the system's
    )
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=80)
    target_type = models.CharField(max_length=80, blank=True)
    target_id = models.CharField(max_length=80, blank=True)
    data = models.JSONField(default=dict)
    # Empty until sealed; then its place in the chain (1, 2, ...) and the hashes. NULL, not
    # "", while unsealed: many unsealed rows must pass the unique constraints below.
    seq = models.BigIntegerField(null=True, blank=True)
    previous_hash = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    hash = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001

    class Meta:
        ordering = ["id"]
        # Unique constraints rather than `unique=True`: on PostgreSQL that would add a
        # second, pattern-matching index per column, which nothing here uses.
        constraints = [
            models.UniqueConstraint(fields=["hash"], name="audit_event_hash_unique"),
            # Two events can never claim the same predecessor: the chain cannot fork.
            models.UniqueConstraint(fields=["previous_hash"], name="audit_chain_no_fork"),
            # One event per place in the chain (several unsealed ones have none yet).
            models.UniqueConstraint(fields=["seq"], name="audit_event_seq_unique"),
        ]
        indexes = [
            # What the sequencer reads: the few events waiting to be sealed, in id order.
            models.Index(
                fields=["id"], name="audit_unsealed_idx", condition=models.Q(seq__isnull=True)
            ),
            models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
            models.Index(
                fields=["actor"], name="audit_actor_idx", condition=models.Q(actor__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} by {self.actor_label}"


class AuditAnchor(models.Model):
    """The chain's head (its last sealed event) as it was at a moment, recorded hourly here
    and in a file of the uploaded-files storage (`audit-anchors/YYYY-MM.jsonl`) that backups
    carry off the server: a chain later cut short or rebuilt no longer holds it (ADR 19)."""

    seq = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash[:12]} at {self.recorded_at:%Y-%m-%d %H:%M}"


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("Email")


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to send")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class OutboxMessage(models.Model):
    """A message to a person, written in the transaction of the change it reports.

    A Celery task sends it after commit; failures are retried with backoff until
    `NOTIFICATION_MAX_ATTEMPTS`, then left failed for staff to see.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient = models.CharField(max_length=254)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    template = models.CharField(max_length=80)
    language = models.CharField(max_length=5)
    status = models.CharField(
        max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    provider_message_id = models.CharField(max_length=100, blank=True)
    # The provider's last delivery report (Africa's Talking: Sent, Submitted, Buffered,
    # Success, Rejected, Failed) and, for a failure, its reason (e.g. UserInBlackList).
    delivery_status = models.CharField(max_length=20, blank=True)
    status_reason = models.CharField(max_length=100, blank=True)
    status_updated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx"),
            # Delivery reports name the provider's id.
            models.Index(fields=["provider_message_id"], name="outbox_provider_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.recipient} ({self.status})"


class JobState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Finished")
    FAILED = "failed", _("Failed")


class Job(models.Model):
    """A long task's progress (done of total), which its page shows as a progress bar."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=80)
    description = models.CharField(max_length=200, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    state = models.CharField(max_length=10, choices=JobState.choices, default=JobState.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(done__lte=models.F("total")) | models.Q(total=0),
                name="job_done_not_above_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.done}/{self.total} ({self.state})"

    @property
    def percent(self) -> int:
        if not self.total:
            return 100 if self.state == JobState.SUCCEEDED else 0
        return min(100, (self.done * 100) // self.total)


# What a verifier reads for an issued document's `kind` (the code stays in the table).
DOCUMENT_KIND_LABELS = {
    "receipt": _("Receipt"),
    "permit": _("Permit"),
    "licence": _("Licence"),
    "certificate": _("Certificate"),
    "approval_letter": _("Approval letter"),
}


class IssuedDocument(models.Model):
    """Any document the county issues (receipt, permit, certificate) that anyone may verify.

    `/verify/<code>` shows only what a verifier needs: kind, number, holder, validity.
    """

    verification_code = models.CharField(max_length=16)
    kind = models.CharField(max_length=30)  # receipt, permit, licence, certificate...
    number = models.CharField(max_length=40)
    holder_name = models.CharField(max_length=150)
    summary = models.CharField(max_length=200, blank=True)
    # Kiswahili for the summary (ADR 15); empty on documents issued before it.
    summary_sw = models.CharField(max_length=200, blank=True, default="", db_default="")
    issued_at = models.DateTimeField()
    valid_until = models.DateField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.CharField(max_length=255, blank=True)
    source_type = models.CharField(max_length=40)
    source_ref = models.CharField(max_length=80)

    class Meta:
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["verification_code"], name="issued_document_code_unique"
            ),
            models.UniqueConstraint(
                fields=["kind", "number"], name="issued_document_number_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.number}"

    @property
    def kind_label(self) -> str:
        label = DOCUMENT_KIND_LABELS.get(self.kind)
        return str(label) if label else self.kind.replace("_", " ").capitalize()

    @property
    def localized_summary(self) -> str:
        return in_language(self.summary, self.summary_sw)


class RunOutcome(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCESS = "success", _("Succeeded")
    FAILURE = "failure", _("Failed")


class ScheduledJobRun(models.Model):
    """One run of a job in the beat schedule (`CELERY_BEAT_SCHEDULE`), by the schedule or
    asked for by hand: written when the task starts and when it ends (ADR 18)."""

    task_id = models.CharField(max_length=64, unique=True)
    task_name = models.CharField(max_length=200)
    entry_name = models.CharField(max_length=100)
    outcome = models.CharField(max_length=10, choices=RunOutcome.choices)
    result = models.CharField(max_length=500, blank=True)
    hostname = models.CharField(max_length=200, blank=True)
    by_hand = models.BooleanField(default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["entry_name", "-started_at"], name="scheduled_run_entry_latest"),
            models.Index(fields=["started_at"], name="scheduled_run_started"),
        ]

    def __str__(self) -> str:
        return f"{self.entry_name} {self.started_at:%Y-%m-%d %H:%M:%S} ({self.outcome})"
