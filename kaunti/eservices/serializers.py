"""Shapes of the e-services API: input serializers check shape, output serializers render.

The rules live in the services; money goes out as strings with two decimals.
"""

import json
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from kaunti.core.fields import AsciiDecimalInput, AsciiIntegerInput
from kaunti.eservices.definitions.language import current_language
from kaunti.eservices.fees.breakdown import FeeBreakdown
from kaunti.eservices.models import (
    Application,
    ApplicationStep,
    ComplaintKind,
    Service,
)

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}


# --- Catalogue -----------------------------------------------------------------------------


class ServiceSummaryOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.SerializerMethodField()
    description = serializers.SerializerMethodField()
    department = serializers.CharField(source="department.code")

    def get_name(self, service: Service) -> str:
        return service.name(current_language())

    def get_description(self, service: Service) -> str:
        return service.description(current_language())


class FieldOutput(serializers.Serializer):
    """One question of the form. (Fields named like Serializer attributes, such as
    `label` and `required`, are declared in `get_fields`.)"""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "name": serializers.CharField(),
            "type": serializers.CharField(),
            "label": serializers.CharField(),
            "required": serializers.BooleanField(),
            "section": serializers.CharField(),
            "choices": serializers.ListField(child=serializers.DictField()),
        }


class DocumentSpecOutput(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "kind": serializers.CharField(),
            "label": serializers.CharField(),
            "required": serializers.BooleanField(),
            "content_types": serializers.ListField(child=serializers.CharField()),
            "max_bytes": serializers.IntegerField(),
            "required_on_renewal": serializers.BooleanField(),
        }


class ServiceDetailOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    department = serializers.CharField()
    eligibility = serializers.CharField()
    version = serializers.IntegerField()

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["sections"] = SectionOutput(many=True)
        fields["fields"] = FieldOutput(many=True)
        fields["documents"] = DocumentSpecOutput(many=True)
        return fields


class SectionOutput(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()


# --- Applications --------------------------------------------------------------------------


class FeeLineOutput(serializers.Serializer):
    description = serializers.CharField()
    amount = serializers.DecimalField(**MONEY)


class FeesOutput(serializers.Serializer):
    lines = FeeLineOutput(many=True)
    total = serializers.DecimalField(**MONEY)


def fees_data(fees: FeeBreakdown) -> dict[str, Any]:
    language = current_language()
    return {
        "lines": [
            {"description": line.description(language), "amount": line.amount}
            for line in fees.lines
        ],
        "total": fees.total,
    }


class AnswersField(serializers.DictField):
    """Answers by question name: an object in JSON, or the same object as JSON text in a
    multipart form (where the documents travel beside it)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=serializers.CharField(allow_blank=True, max_length=1000), **kwargs)

    def get_value(self, dictionary: Any) -> Any:
        # A form's `answers` is one text field; DRF's own form reading of a dict field
        # looks for `answers.<name>` fields instead.
        if hasattr(dictionary, "getlist") and self.field_name in dictionary:
            return dictionary.get(self.field_name)
        return super().get_value(dictionary)

    def to_internal_value(self, data: Any) -> dict[str, str]:
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                self.fail("not_a_dict", input_type="text that is not JSON")
        return super().to_internal_value(data)


class ApplicationCreateInput(serializers.Serializer):
    service = serializers.SlugField(max_length=40, help_text=_("The service code."))
    renew = serializers.BooleanField(
        default=False, help_text=_("Pre-fill from the caller's last issued application.")
    )
    answers = AnswersField(
        required=False,
        help_text=_("Answers to save at once (as PATCH would), by question name."),
    )
    submit = serializers.BooleanField(
        default=False,
        help_text=_("Submit at once when every answer and document is in and right."),
    )


class ApplicationUpdateInput(serializers.Serializer):
    answers = serializers.DictField(child=serializers.CharField(allow_blank=True, max_length=1000))


class ApplicationSubmitInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class DocumentUploadInput(serializers.Serializer):
    kind = serializers.SlugField(max_length=40)
    file = serializers.FileField()


class StepOutput(serializers.Serializer):
    code = serializers.CharField()
    kind = serializers.CharField()
    name = serializers.SerializerMethodField()
    status = serializers.CharField()
    outcome = serializers.CharField()
    due_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)

    def get_name(self, step: ApplicationStep) -> str:
        return step.name(current_language())


class EventOutput(serializers.Serializer):
    occurred_at = serializers.DateTimeField()
    kind = serializers.CharField()
    status_after = serializers.CharField()
    note = serializers.CharField()


class DocumentOutput(serializers.Serializer):
    public_id = serializers.UUIDField()
    kind = serializers.CharField()
    display_name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    uploaded_at = serializers.DateTimeField()


class ApplicationOutput(serializers.Serializer):
    reference = serializers.CharField()
    service = serializers.CharField(source="service.code")
    version = serializers.IntegerField(source="version.number")
    status = serializers.CharField()
    answers = serializers.DictField()
    fee_total = serializers.DecimalField(**MONEY)
    bill_number = serializers.SerializerMethodField()
    issued_document_number = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_reason = serializers.CharField()

    def get_bill_number(self, application: Application) -> str | None:
        return application.bill.number if application.bill_id and application.bill else None

    def get_issued_document_number(self, application: Application) -> str | None:
        document = application.issued_document
        return document.number if document is not None else None


class ApplicationStartOutput(ApplicationOutput):
    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["errors"] = serializers.DictField(
            child=serializers.ListField(child=serializers.CharField())
        )
        return fields


class ApplicationDetailOutput(ApplicationOutput):
    steps = StepOutput(many=True)
    timeline = EventOutput(many=True)


class DraftUpdateOutput(serializers.Serializer):
    application = ApplicationOutput()

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["errors"] = serializers.DictField(
            child=serializers.ListField(child=serializers.CharField())
        )
        return fields


class StepActionInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    passed = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text=_("Inspections only.")
    )


class StepReassignInput(serializers.Serializer):
    assignee = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        default="",
        max_length=150,
        help_text=_("Username of the officer; empty gives the step back to the whole team."),
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class StepAssignmentOutput(serializers.Serializer):
    application = serializers.CharField(source="application.reference")
    step = serializers.CharField(source="code")
    status = serializers.CharField()
    assignee = serializers.CharField(source="assigned_to.username", allow_null=True, default=None)
    due_at = serializers.DateTimeField(allow_null=True)


class WorkQueueOutput(serializers.Serializer):
    application = serializers.CharField(source="application.reference")
    service = serializers.CharField(source="application.service.code")
    step = StepOutput(source="*")


# --- Complaints ----------------------------------------------------------------------------


class ComplaintCreateInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ComplaintKind.choices, default=ComplaintKind.COMPLAINT)
    category = serializers.SlugField(max_length=40)
    ward = serializers.CharField(max_length=10)
    description = serializers.CharField(max_length=4000)
    location_text = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200
    )
    latitude = AsciiDecimalInput(
        max_digits=9, decimal_places=6, required=False, allow_null=True, default=None
    )
    longitude = AsciiDecimalInput(
        max_digits=9, decimal_places=6, required=False, allow_null=True, default=None
    )
    photo = serializers.FileField(required=False, allow_null=True, default=None)


class ComplaintActionInput(serializers.Serializer):
    text = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=4000,
        help_text=_("The resolution, the reason to reopen, or a comment on the rating."),
    )
    rating = AsciiIntegerInput(required=False, min_value=1, max_value=5, allow_null=True)


class ComplaintOutput(serializers.Serializer):
    reference = serializers.CharField()
    kind = serializers.CharField()
    category = serializers.CharField(source="category.code")
    ward = serializers.CharField(source="ward.code")
    description = serializers.CharField()
    location_text = serializers.CharField()
    status = serializers.CharField()
    due_at = serializers.DateTimeField()
    resolution = serializers.CharField()
    rating = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
