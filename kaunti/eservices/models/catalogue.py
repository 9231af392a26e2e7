"""The catalogue: services, their immutable published versions, and Finance Act fee schedules.

Services are data, not code: a county changes its catalogue and its fees every year with
its Finance Act, without a developer. An edit never changes a published version; it
makes a new one, and every application keeps the version it was submitted under.
"""

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kaunti.core.language import in_language
from kaunti.core.models import Department
from kaunti.eservices.fees.schedules import RuleKind, RuleSpec, ScheduleSpec
from kaunti.payments.models import RevenueStream


def _pick(language: str, english: str, swahili: str) -> str:
    return swahili if language == "sw" and swahili else english


class Service(models.Model):
    """A permit, licence, certificate or approval a citizen can apply for online.

    County Licensing (Uniform Procedures) Act 2024, s. 7(5): every county must take
    applications for grant and renewal electronically by about the end of 2027.
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=150)
    name_sw = models.CharField(_("name (Kiswahili)"), max_length=150, blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    description_sw = models.TextField(_("description (Kiswahili)"), blank=True)
    eligibility_en = models.TextField(_("who may apply (English)"), blank=True)
    eligibility_sw = models.TextField(_("who may apply (Kiswahili)"), blank=True)
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="services",
        verbose_name=_("owning department"),
    )
    current_version = models.ForeignKey(
        "ServiceVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("current version"),
        help_text=_("The published version new applications use."),
    )
    is_active = models.BooleanField(_("open for applications"), default=True)
    order = models.PositiveSmallIntegerField(_("order in the catalogue"), default=100)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "name_en"]
        verbose_name = _("service")
        verbose_name_plural = _("services")

    def __str__(self) -> str:
        return self.localized_name

    @property
    def localized_name(self) -> str:
        return in_language(self.name_en, self.name_sw)

    def name(self, language: str) -> str:
        return _pick(language, self.name_en, self.name_sw)

    def description(self, language: str) -> str:
        return _pick(language, self.description_en, self.description_sw)

    def eligibility(self, language: str) -> str:
        return _pick(language, self.eligibility_en, self.eligibility_sw)


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class DocumentKind(models.TextChoices):
    PERMIT = "permit", _("Permit")
    LICENCE = "licence", _("Licence")
    CERTIFICATE = "certificate", _("Certificate")
    APPROVAL_LETTER = "approval_letter", _("Approval letter")


class ValidityRule(models.TextChoices):
    """How long an issued document is valid (rules differ by county: model them as data)."""

    TO_31_DECEMBER = "to_31_december", _("To 31 December of the year of issue")
    MONTHS = "months", _("A number of months from issue")
    NONE = "none", _("No expiry")


class ServiceVersion(models.Model):
    """What a service asks, charges and does, frozen once published.

    A draft is edited freely; publishing it makes it the service's current version and
    it never changes again. Applications point at the version they were made under.
    """

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    form = models.JSONField(
        _("form"), default=list, blank=True, help_text=_("A list of fields (see definitions.py).")
    )
    documents = models.JSONField(_("required documents"), default=list, blank=True)
    workflow = models.JSONField(_("workflow"), default=list, blank=True)
    fee_schedule_code = models.SlugField(
        _("fee schedule"),
        max_length=40,
        blank=True,
        help_text=_("Code of the fee schedule; the one in force on the day of submission applies."),
    )
    document_kind = models.CharField(
        _("issued document"), max_length=20, choices=DocumentKind.choices
    )
    document_prefix = models.CharField(
        _("document number prefix"), max_length=6, help_text=_("e.g. UBP for UBP/2026/...")
    )
    validity_rule = models.CharField(
        _("validity"), max_length=20, choices=ValidityRule.choices, default=ValidityRule.NONE
    )
    validity_months = models.PositiveSmallIntegerField(
        _("valid for (months)"), null=True, blank=True
    )
    next_year_from = models.CharField(
        _("covers next year from (MM-DD)"),
        max_length=5,
        blank=True,
        help_text=_(
            "With validity to 31 December: a document issued on or after this day of the year "
            "runs to 31 December of the next year (e.g. 12-01)."
        ),
    )
    sections = models.JSONField(
        _("form sections"),
        default=list,
        blank=True,
        help_text=_("Headings of the form's steps: code, title_en, title_sw."),
    )
    checks = models.JSONField(
        _("named checks"),
        default=list,
        blank=True,
        help_text=_("Checks run on submission and before issue (e.g. land.rates_clear)."),
    )
    separation_of_duties = models.BooleanField(
        _("separate inspection and approval"),
        default=True,
        help_text=_("One person may not both inspect and approve the same application."),
    )
    is_renewable = models.BooleanField(_("can be renewed"), default=False)
    holder_field = models.CharField(
        _("holder's name from"),
        max_length=40,
        blank=True,
        help_text=_("The answer that names the document's holder; empty: the applicant's name."),
    )
    document_fields = models.JSONField(
        _("answers printed on the document"), default=list, blank=True
    )
    change_note = models.CharField(_("what changed"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["service", "-number"]
        verbose_name = _("service version")
        verbose_name_plural = _("service versions")
        constraints = [
            models.UniqueConstraint(
                fields=["service", "number"], name="service_version_number_unique"
            ),
            models.UniqueConstraint(
                fields=["service"],
                condition=Q(status="draft"),
                name="service_version_one_draft",
            ),
            models.CheckConstraint(
                condition=~Q(validity_rule="months") | Q(validity_months__gt=0),
                name="service_version_months_given",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False),
                name="service_version_published_dated",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service.code} v{self.number} ({self.status})"

    @property
    def is_published(self) -> bool:
        return self.status == VersionStatus.PUBLISHED

    def content(self) -> dict[str, object]:
        """Everything a version decides, for comparing two versions (loading is idempotent)."""
        return {
            "form": self.form,
            "documents": self.documents,
            "workflow": self.workflow,
            "fee_schedule_code": self.fee_schedule_code,
            "document_kind": self.document_kind,
            "document_prefix": self.document_prefix,
            "validity_rule": self.validity_rule,
            "validity_months": self.validity_months,
            "next_year_from": self.next_year_from,
            "sections": self.sections,
            "checks": self.checks,
            "separation_of_duties": self.separation_of_duties,
            "is_renewable": self.is_renewable,
            "holder_field": self.holder_field,
            "document_fields": self.document_fields,
        }


VERSION_CONTENT_FIELDS = (
    "form",
    "documents",
    "workflow",
    "fee_schedule_code",
    "document_kind",
    "document_prefix",
    "validity_rule",
    "validity_months",
    "next_year_from",
    "sections",
    "checks",
    "separation_of_duties",
    "is_renewable",
    "holder_field",
    "document_fields",
)


class FeeSchedule(models.Model):
    """The fees of one service under one Finance Act (or gazette notice), for its dates.

    Courts void fee increases passed without public participation (e.g. Diani Business
    Welfare Assoc. v County Govt of Kwale [2015] eKLR), so schedules are dated data: a
    new Act is a new schedule, and the old one stays for the applications it priced.
    """

    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    finance_act = models.CharField(
        _("Finance Act or gazette notice"),
        max_length=200,
        help_text=_("The law that sets these fees."),
    )
    finance_act_sw = models.CharField(
        _("Finance Act or gazette notice (Kiswahili)"), max_length=200, blank=True
    )
    effective_from = models.DateField(_("in force from"))
    effective_to = models.DateField(_("in force until"), null=True, blank=True)
    is_illustrative = models.BooleanField(
        _("illustrative"),
        default=False,
        help_text=_("Demonstration amounts, not the county's law."),
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code", "-effective_from"]
        verbose_name = _("fee schedule")
        verbose_name_plural = _("fee schedules")
        constraints = [
            models.UniqueConstraint(
                fields=["code", "effective_from"], name="fee_schedule_once_per_start"
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="fee_schedule_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (from {self.effective_from:%d/%m/%Y})"

    @property
    def localized_finance_act(self) -> str:
        return in_language(self.finance_act, self.finance_act_sw)

    def is_in_force_on(self, day: date) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )

    def to_spec(self) -> ScheduleSpec:
        return ScheduleSpec(
            name=f"{self.name} ({self.finance_act})",
            rules=tuple(rule.to_spec() for rule in self.rules.all()),
            effective_from=self.effective_from,
            effective_to=self.effective_to,
        )


class FeeRule(models.Model):
    """One rule of a fee schedule: fixed, rate card, per unit, penalty or waiver (eservices.fees)."""

    schedule = models.ForeignKey(FeeSchedule, on_delete=models.CASCADE, related_name="rules")
    code = models.SlugField(_("code"), max_length=40)
    order = models.PositiveSmallIntegerField(_("order"), default=10)
    kind = models.CharField(
        _("kind"),
        max_length=12,
        choices=[
            (RuleKind.FIXED.value, _("Fixed amount")),
            (RuleKind.RATE_CARD.value, _("Rate card")),
            (RuleKind.PER_UNIT.value, _("Per unit")),
            (RuleKind.PENALTY.value, _("Late-payment penalty")),
            (RuleKind.WAIVER.value, _("Waiver")),
        ],
    )
    stream = models.ForeignKey(
        RevenueStream,
        on_delete=models.PROTECT,
        to_field="code",
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revenue stream"),
        help_text=_("Where the money is booked; waivers have none."),
    )
    description_en = models.CharField(_("description (English)"), max_length=150)
    description_sw = models.CharField(_("description (Kiswahili)"), max_length=150, blank=True)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    starts_on = models.DateField(_("applies from"), null=True, blank=True)
    ends_on = models.DateField(_("applies until"), null=True, blank=True)

    class Meta:
        ordering = ["schedule", "order", "code"]
        verbose_name = _("fee rule")
        verbose_name_plural = _("fee rules")
        constraints = [
            models.UniqueConstraint(fields=["schedule", "code"], name="fee_rule_code_unique"),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True)
                | Q(ends_on__isnull=True)
                | Q(ends_on__gte=F("starts_on")),
                name="fee_rule_dates_ordered",
            ),
            models.CheckConstraint(
                condition=Q(kind="waiver") | Q(stream__isnull=False),
                name="fee_rule_charge_has_stream",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.kind})"

    def to_spec(self) -> RuleSpec:
        return RuleSpec(
            code=self.code,
            kind=self.kind,
            parameters=self.parameters,
            stream_code=self.stream_id or "",
            description_en=self.description_en,
            description_sw=self.description_sw,
            starts_on=self.starts_on,
            ends_on=self.ends_on,
            order=self.order,
        )
