"""Applications, their workflow steps, their documents and their timeline."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kaunti.core.language import in_language
from kaunti.core.models import Department, IssuedDocument, Ward
from kaunti.eservices.models.catalogue import FeeSchedule, Service, ServiceVersion
from kaunti.payments.models import Bill

# The source type on the bills applications raise (payments calls our handler by it).
APPLICATION_SOURCE_TYPE = "eservices.application"


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted, awaiting payment")
    IN_REVIEW = "in_review", _("Paid, in review")
    RETURNED = "returned", _("Returned for changes")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    ISSUED = "issued", _("Issued")


EDITABLE_STATUSES = (ApplicationStatus.DRAFT, ApplicationStatus.RETURNED)


class Application(models.Model):
    """A citizen's application for one service, under the version it was made with.

    County Licensing (Uniform Procedures) Act 2024: s. 13 (period of determination) is
    why every step has an SLA, s. 15 (notice of decision) why the applicant is told of
    every change.
    """

    reference = models.CharField(_("reference"), max_length=12, unique=True)
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="applications"
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="applications")
    version = models.ForeignKey(
        ServiceVersion, on_delete=models.PROTECT, related_name="applications"
    )
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    ward = models.ForeignKey(
        Ward, on_delete=models.PROTECT, null=True, blank=True, related_name="applications"
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.DRAFT,
    )
    renewal_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="renewals"
    )
    fee_schedule = models.ForeignKey(
        FeeSchedule, on_delete=models.PROTECT, null=True, blank=True, related_name="applications"
    )
    fees = models.JSONField(
        _("fee breakdown"), default=dict, blank=True, help_text=_("As billed on submission.")
    )
    fee_total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    bill = models.ForeignKey(
        Bill, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    issued_document = models.OneToOneField(
        IssuedDocument, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    check_facts = models.JSONField(
        _("facts from the service checks"),
        default=dict,
        blank=True,
        help_text=_("What the named checks reported when the document was issued."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        constraints = [
            models.CheckConstraint(
                condition=Q(fee_total__gte=0), name="application_fee_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(status="issued") | Q(issued_document__isnull=False),
                name="application_issued_has_document",
            ),
        ]
        indexes = [
            models.Index(fields=["applicant", "-created_at"], name="application_applicant_idx"),
            models.Index(fields=["service", "status"], name="application_service_status_idx"),
            models.Index(fields=["status", "-created_at"], name="application_status_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES


class StepStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting for earlier steps")
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CLOSED = "closed", _("Closed without action")


class StepOutcome(models.TextChoices):
    NONE = "", _("None yet")
    APPROVED = "approved", _("Approved")
    PASSED = "passed", _("Inspection passed")


class ApplicationStep(models.Model):
    """One step of an application's workflow, copied from its version when review starts.

    A step opens when every step it waits for is done; its SLA clock starts then.
    """

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="steps")
    code = models.CharField(max_length=40)
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=12)  # definitions.StepKind
    name_en = models.CharField(max_length=150)
    name_sw = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=20)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    sla_hours = models.PositiveIntegerField()
    after = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=StepStatus.choices, default=StepStatus.WAITING)
    outcome = models.CharField(
        max_length=10, choices=StepOutcome.choices, default=StepOutcome.NONE, blank=True
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    opened_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    notes = models.TextField(blank=True)

    class Meta:
        # By the column, not the relation: ordering by "application" would join the
        # application table to every read of steps for its default order.
        ordering = ["application_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["application", "code"], name="application_step_once"),
            models.CheckConstraint(
                condition=~Q(status="open") | Q(due_at__isnull=False),
                name="application_step_open_has_due",
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | ~Q(outcome=""),
                name="application_step_done_has_outcome",
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "department", "due_at"], name="application_step_queue_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_id}:{self.code} ({self.status})"

    @property
    def localized_name(self) -> str:
        return in_language(self.name_en, self.name_sw)

    def name(self, language: str) -> str:
        return in_language(self.name_en, self.name_sw, language)


class EventKind(models.TextChoices):
    CREATED = "created", _("Application started")
    SUBMITTED = "submitted", _("Submitted")
    PAID = "paid", _("Paid; review started")
    REVIEW_STARTED = "review_started", _("Review started (no fee)")
    STEP_APPROVED = "step_approved", _("Step approved")
    INSPECTION_RECORDED = "inspection", _("Inspection recorded")
    RETURNED = "returned", _("Returned for changes")
    RESUBMITTED = "resubmitted", _("Resubmitted")
    REJECTED = "rejected", _("Rejected")
    APPROVED = "approved", _("Approved")
    ISSUED = "issued", _("Document issued")
    REASSIGNED = "reassigned", _("Step reassigned")
    DOCUMENT_ATTACHED = "document", _("Document uploaded")


class ApplicationEvent(models.Model):
    """One entry of an application's timeline; internal ones are hidden from the applicant."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="events")
    occurred_at = models.DateTimeField()
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    step = models.ForeignKey(
        ApplicationStep, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    status_after = models.CharField(max_length=12, choices=ApplicationStatus.choices)
    note = models.TextField(blank=True)
    is_visible_to_applicant = models.BooleanField(default=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["application", "kind"], name="application_event_kind_idx")]

    def __str__(self) -> str:
        return f"{self.application_id} {self.kind} at {self.occurred_at:%Y-%m-%d %H:%M}"


class ApplicationDocument(models.Model):
    """A file uploaded with an application (or an inspector's photo), checked by content.

    Stored through Django's storage API under a random name (never the uploader's), and
    only ever handed out through a permission-checked read, never from a public URL.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(max_length=40)
    step = models.ForeignKey(
        ApplicationStep, on_delete=models.PROTECT, null=True, blank=True, related_name="photos"
    )
    display_name = models.CharField(max_length=150)
    storage_name = models.CharField(max_length=200, unique=True)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["application_id", "kind", "-uploaded_at"]  # the column: no join
        constraints = [
            models.CheckConstraint(condition=Q(size__gt=0), name="application_document_not_empty"),
        ]
        indexes = [
            models.Index(fields=["application", "kind"], name="application_document_kind_idx")
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.display_name}"
