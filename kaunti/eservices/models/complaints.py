"""Complaints and suggestions from citizens, routed to the department that owns the category.

Constitution Art. 232(1)(c) asks for "responsive, prompt, effective" public services:
each complaint gets a reference, an SLA, escalation to a supervisor when the SLA passes,
and the citizen's rating of the answer.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kaunti.core.language import in_language
from kaunti.core.models import Department, Ward


class ComplaintCategory(models.Model):
    """What a complaint is about; decides the owning department and the SLA."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_sw = models.CharField(_("name (Kiswahili)"), max_length=120, blank=True)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", verbose_name=_("owning department")
    )
    sla_hours = models.PositiveIntegerField(_("hours to resolve"), default=72)
    is_active = models.BooleanField(_("offered"), default=True)
    order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["order", "name_en"]
        verbose_name = _("complaint category")
        verbose_name_plural = _("complaint categories")
        constraints = [
            models.CheckConstraint(
                condition=Q(sla_hours__gt=0), name="complaint_category_sla_positive"
            )
        ]

    def __str__(self) -> str:
        return self.localized_name

    @property
    def localized_name(self) -> str:
        return in_language(self.name_en, self.name_sw)

    def name(self, language: str) -> str:
        return in_language(self.name_en, self.name_sw, language)


class ComplaintKind(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    SUGGESTION = "suggestion", _("Suggestion")


class ComplaintStatus(models.TextChoices):
    OPEN = "open", _("Received")
    IN_PROGRESS = "in_progress", _("Being handled")
    RESOLVED = "resolved", _("Resolved")
    REOPENED = "reopened", _("Reopened")


UNRESOLVED_STATUSES = (
    ComplaintStatus.OPEN,
    ComplaintStatus.IN_PROGRESS,
    ComplaintStatus.REOPENED,
)


class Complaint(models.Model):
    """A citizen's complaint or suggestion and how the county answered it."""

    reference = models.CharField(_("reference"), max_length=12, unique=True)
    complainant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="complaints"
    )
    kind = models.CharField(
        _("kind"), max_length=12, choices=ComplaintKind.choices, default=ComplaintKind.COMPLAINT
    )
    category = models.ForeignKey(ComplaintCategory, on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    ward = models.ForeignKey(Ward, on_delete=models.PROTECT, related_name="+")
    description = models.TextField(_("description"))
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    location_text = models.CharField(_("place"), max_length=200, blank=True)
    photo_storage_name = models.CharField(max_length=200, blank=True)
    photo_content_type = models.CharField(max_length=40, blank=True)
    photo_display_name = models.CharField(max_length=150, blank=True)
    photo_size = models.PositiveIntegerField(default=0)
    status = models.CharField(
        _("status"), max_length=12, choices=ComplaintStatus.choices, default=ComplaintStatus.OPEN
    )
    due_at = models.DateTimeField()
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    rating_comment = models.CharField(_("comment on the answer"), max_length=500, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="complaint_rating_one_to_five",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="complaint_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="complaint_longitude_range",
            ),
            models.CheckConstraint(
                condition=~Q(status="resolved") | Q(resolved_at__isnull=False),
                name="complaint_resolved_dated",
            ),
        ]
        indexes = [
            models.Index(fields=["department", "status", "due_at"], name="complaint_inbox_idx"),
            models.Index(fields=["complainant", "-created_at"], name="complaint_citizen_idx"),
        ]

    def __str__(self) -> str:
        return self.reference


class ComplaintEventKind(models.TextChoices):
    FILED = "filed", _("Received")
    ASSIGNED = "assigned", _("Assigned")
    STARTED = "started", _("Work started")
    ESCALATED = "escalated", _("Escalated to a supervisor")
    RESOLVED = "resolved", _("Resolved")
    RATED = "rated", _("Rated by the citizen")
    REOPENED = "reopened", _("Reopened by the citizen")


class ComplaintEvent(models.Model):
    """One entry of a complaint's timeline; internal ones are hidden from the citizen."""

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="events")
    occurred_at = models.DateTimeField()
    kind = models.CharField(max_length=12, choices=ComplaintEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    is_visible_to_complainant = models.BooleanField(default=True)

    class Meta:
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.kind}"
