"""Operators edit the catalogue here; every save goes through a service (and the audit).

Saving a published service version never changes it: the edited values become a new
draft, which "Publish" makes current. Applications and complaints are read-only here;
staff work on them in their own pages.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kaunti.core.admin import ReadOnlyAdmin
from kaunti.eservices.models import (
    VERSION_CONTENT_FIELDS,
    Application,
    Complaint,
    ComplaintCategory,
    FeeRule,
    FeeSchedule,
    Service,
    ServiceVersion,
    VersionStatus,
)
from kaunti.eservices.services import catalogue


class ServiceVersionInline(admin.TabularInline):
    model = ServiceVersion
    fields = ["number", "status", "change_note", "published_at"]
    readonly_fields = ["number", "status", "change_note", "published_at"]
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["code", "name_en", "department", "current_version", "is_active", "order"]
    list_filter = ["is_active", "department"]
    search_fields = ["code", "name_en", "name_sw"]
    readonly_fields = ["current_version"]
    inlines = [ServiceVersionInline]
    actions = ["start_draft"]

    def save_model(self, request: HttpRequest, obj: Service, form: Any, change: bool) -> None:
        catalogue.save_service_details(service=obj, actor=_actor(request))

    @admin.action(description=_("Start a new draft version from the current one"))
    def start_draft(self, request: HttpRequest, queryset: QuerySet[Service]) -> None:
        for service in queryset:
            try:
                version = catalogue.create_draft_version(service=service, actor=_actor(request))
            except ValidationError as exc:
                self.message_user(request, f"{service}: {' '.join(exc.messages)}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("%(service)s: draft version %(n)s started.")
                    % {"service": service, "n": version.number},
                )


class ServiceVersionForm(forms.ModelForm):
    class Meta:
        model = ServiceVersion
        fields = ["service", *VERSION_CONTENT_FIELDS, "change_note"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        candidate = ServiceVersion(
            **{name: cleaned.get(name) for name in self.Meta.fields if name in cleaned}
        )
        try:
            catalogue.check_version_definition(candidate)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        service = cleaned.get("service")
        editing_published = (
            self.instance.pk is not None and self.instance.status == VersionStatus.PUBLISHED
        )
        if service is not None and (self.instance.pk is None or editing_published):
            draft = service.versions.filter(status=VersionStatus.DRAFT).first()
            if draft is not None:
                raise ValidationError(
                    _("This service already has draft version %(n)s: edit that one.")
                    % {"n": draft.number}
                )
        return cleaned


@admin.register(ServiceVersion)
class ServiceVersionAdmin(admin.ModelAdmin):
    form = ServiceVersionForm
    list_display = ["service", "number", "status", "change_note", "published_at"]
    list_filter = ["status", "service"]
    actions = ["publish"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fixed = ["number", "status", "created_by", "created_at", "published_by", "published_at"]
        return ["service", *fixed] if obj is not None else fixed

    def save_model(
        self, request: HttpRequest, obj: ServiceVersion, form: Any, change: bool
    ) -> None:
        was_published = obj.pk is not None and obj.status == VersionStatus.PUBLISHED
        saved = catalogue.save_version_edit(version=obj, actor=_actor(request))
        # The admin goes on to show (and log) `obj`: make it the row actually saved.
        for field in ServiceVersion._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        if was_published:
            self.message_user(
                request,
                _(
                    "Published versions never change: your edit was saved as draft version %(n)s. Publish it to make it current."
                )
                % {"n": saved.number},
                messages.WARNING,
            )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Publish the selected drafts"))
    def publish(self, request: HttpRequest, queryset: QuerySet[ServiceVersion]) -> None:
        for version in queryset:
            try:
                catalogue.publish_service_version(version=version, actor=_actor(request))
            except ValidationError as exc:
                self.message_user(request, f"{version}: {' '.join(exc.messages)}", messages.ERROR)
            else:
                self.message_user(request, _("%(version)s is now current.") % {"version": version})


class FeeRuleForm(forms.ModelForm):
    class Meta:
        model = FeeRule
        fields = [
            "order",
            "code",
            "kind",
            "stream",
            "description_en",
            "description_sw",
            "parameters",
            "starts_on",
            "ends_on",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        candidate = FeeRule(
            **{name: cleaned.get(name) for name in self.Meta.fields if name in cleaned}
        )
        try:
            catalogue.check_fee_rule(candidate)
        except ValidationError as exc:
            self.add_error("parameters", exc.message_dict.get("parameters", exc.messages))
        return cleaned


class FeeRuleInline(admin.TabularInline):
    model = FeeRule
    form = FeeRuleForm
    extra = 0


@admin.register(FeeSchedule)
class FeeScheduleAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "finance_act",
        "effective_from",
        "effective_to",
        "is_illustrative",
    ]
    list_filter = ["is_illustrative", "code"]
    search_fields = ["code", "name", "finance_act"]
    inlines = [FeeRuleInline]

    def save_model(self, request: HttpRequest, obj: FeeSchedule, form: Any, change: bool) -> None:
        catalogue.save_fee_schedule(schedule=obj, actor=_actor(request))

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        rules = formset.save(commit=False)
        for rule in formset.deleted_objects:
            catalogue.delete_fee_rule(rule=rule, actor=_actor(request))
        for rule in rules:
            catalogue.save_fee_rule(rule=rule, actor=_actor(request))


@admin.register(ComplaintCategory)
class ComplaintCategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name_en", "name_sw", "department", "sla_hours", "is_active"]
    list_filter = ["is_active", "department"]


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin):
    list_display = ["reference", "service", "status", "ward", "submitted_at", "fee_total"]
    list_filter = ["status", "service"]
    search_fields = ["reference"]


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyAdmin):
    list_display = [
        "reference",
        "category",
        "department",
        "ward",
        "status",
        "due_at",
        "escalated_at",
    ]
    list_filter = ["status", "category", "department"]
    search_fields = ["reference"]


def _actor(request: HttpRequest) -> Any:
    return request.user if request.user.is_authenticated else None
