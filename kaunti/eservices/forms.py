"""Forms of the e-services pages: they check the shape of what was typed, nothing more.

An application's questions come from the service version's form (data, not code), so the
section form is built from its `FieldSpec`s; every answer is a plain string here and the
services clean it (and say what is wrong, in the active language).
"""

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kaunti.accounts.models import User
from kaunti.accounts.permissions import roles_granting
from kaunti.core.forms import GovukDateAnswerField
from kaunti.core.models import Department, Ward
from kaunti.eservices.definitions.form import FieldSpec, FieldType
from kaunti.eservices.models import (
    ApplicationStatus,
    ApplicationStep,
    ComplaintCategory,
    ComplaintKind,
    ComplaintStatus,
)

INPUT = "govuk-input"
SELECT = "govuk-select"
TEXTAREA = "govuk-textarea"
FILE = "govuk-file-upload"

_INPUT_MODES = {
    FieldType.NUMBER: "decimal",
    FieldType.PHONE: "tel",
    FieldType.NATIONAL_ID: "numeric",
}


class SectionForm(forms.Form):
    """One short step of an application form: the questions of one section."""

    def __init__(
        self,
        *args: Any,
        specs: Sequence[FieldSpec],
        language: str,
        wards: Sequence[Ward] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        for spec in specs:
            if spec.type == FieldType.FILE:
                continue  # uploads have their own page
            self.fields[spec.name] = _field_for(spec, language, wards)


def _field_for(spec: FieldSpec, language: str, wards: Sequence[Ward]) -> forms.Field:
    label = (
        spec.label(language)
        if spec.required
        else _("%(label)s (optional)") % {"label": spec.label(language)}
    )
    common: dict[str, Any] = {"label": label, "required": False, "help_text": spec.help(language)}
    if spec.type == FieldType.CHOICE:
        choices = [("", "")] + [(c.value, c.label(language)) for c in spec.choices]
        return forms.ChoiceField(
            choices=choices, widget=forms.Select(attrs={"class": SELECT}), **common
        )
    if spec.type == FieldType.WARD:
        choices = [("", "")] + [(ward.code, ward.name) for ward in wards]
        return forms.ChoiceField(
            choices=choices, widget=forms.Select(attrs={"class": SELECT}), **common
        )
    if spec.type == FieldType.DATE:
        return GovukDateAnswerField(**common)
    attrs: dict[str, str] = {"class": INPUT}
    if spec.type in _INPUT_MODES:
        attrs["inputmode"] = _INPUT_MODES[FieldType(spec.type)]
    return forms.CharField(max_length=1000, widget=forms.TextInput(attrs=attrs), **common)


class UploadForm(forms.Form):
    """One document of an application; the service checks its content and size."""

    kind = forms.CharField(max_length=40, widget=forms.HiddenInput)
    file = forms.FileField(
        label=_("File"),
        error_messages={"required": _("Choose the file to upload.")},
        widget=forms.ClearableFileInput(attrs={"class": FILE}),
    )


class NoteForm(forms.Form):
    """A note to go with an action (optional unless the service asks for one)."""

    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"class": TEXTAREA, "rows": 3}),
    )


class InspectionForm(NoteForm):
    passed = forms.TypedChoiceField(
        label=_("Result"),
        choices=[("yes", _("Passed")), ("no", _("Failed"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": _("Say whether the inspection passed.")},
    )
    photos = forms.FileField(
        label=_("Photo (optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"class": FILE}),
    )


class QueueFilterForm(forms.Form):
    """The work queue's filters, offered by name: services and wards to choose from."""

    service = forms.ChoiceField(
        label=_("Service"),
        required=False,
        widget=forms.Select(attrs={"class": SELECT}),
    )
    ward = forms.ChoiceField(
        label=_("Ward"),
        required=False,
        widget=forms.Select(attrs={"class": SELECT}),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *ApplicationStatus.choices],
        widget=forms.Select(attrs={"class": SELECT}),
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(
        self,
        *args: Any,
        services: Sequence[tuple[str, str]],
        wards: Sequence[Ward],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        service = self.fields["service"]
        ward = self.fields["ward"]
        assert isinstance(service, forms.ChoiceField)
        assert isinstance(ward, forms.ChoiceField)
        service.choices = [("", _("Any service")), *services]
        ward.choices = [("", _("Any ward")), *((w.code, w.name) for w in wards)]


class ComplaintForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Is it a complaint or a suggestion?"),
        choices=ComplaintKind.choices,
        initial=ComplaintKind.COMPLAINT,
        widget=forms.Select(attrs={"class": SELECT}),
    )
    category = forms.ModelChoiceField(
        label=_("What is it about?"),
        queryset=ComplaintCategory.objects.none(),
        to_field_name="code",
        error_messages={"required": _("Choose what it is about.")},
        widget=forms.Select(attrs={"class": SELECT}),
    )
    ward = forms.ModelChoiceField(
        label=_("Ward"),
        queryset=Ward.objects.none(),
        to_field_name="code",
        error_messages={"required": _("Choose the ward.")},
        widget=forms.Select(attrs={"class": SELECT}),
    )
    description = forms.CharField(
        label=_("Describe it"),
        max_length=4000,
        error_messages={"required": _("Describe the problem or the suggestion.")},
        widget=forms.Textarea(attrs={"class": TEXTAREA, "rows": 5}),
    )
    location_text = forms.CharField(
        label=_("Where exactly? (optional)"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"class": INPUT}),
    )
    photo = forms.FileField(
        label=_("Photo (optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"class": FILE}),
    )

    def __init__(self, *args: Any, categories: Any, wards: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        category_field = self.fields["category"]
        ward_field = self.fields["ward"]
        assert isinstance(category_field, forms.ModelChoiceField)
        assert isinstance(ward_field, forms.ModelChoiceField)
        category_field.queryset = categories
        ward_field.queryset = wards


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How well was it resolved? (1 poor, 5 very good)"),
        choices=[(str(n), str(n)) for n in range(1, 6)],
        coerce=int,
        widget=forms.Select(attrs={"class": SELECT}),
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"class": TEXTAREA, "rows": 3}),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"class": TEXTAREA, "rows": 3}),
    )


class ReassignForm(forms.Form):
    """Give a step to one officer of its department (the service checks their role)."""

    assignee = forms.ModelChoiceField(
        label=_("Give it to"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("The whole team"),
        widget=forms.Select(attrs={"class": SELECT}),
    )
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"class": INPUT}),
    )

    def __init__(self, *args: Any, step: ApplicationStep, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assignee = self.fields["assignee"]
        assert isinstance(assignee, forms.ModelChoiceField)
        assignee.queryset = (
            User.objects.filter(
                is_active=True,
                role_assignments__department=step.department,
                role_assignments__role=step.role,
            )
            .distinct()
            .order_by("full_name", "username")
        )


class ComplaintInboxFilterForm(forms.Form):
    """The complaints inbox's filters: ward, category, status, overdue."""

    ward = forms.ModelChoiceField(
        label=_("Ward"),
        queryset=Ward.objects.none(),
        to_field_name="code",
        required=False,
        empty_label=_("Any ward"),
        widget=forms.Select(attrs={"class": SELECT}),
    )
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=ComplaintCategory.objects.none(),
        to_field_name="code",
        required=False,
        empty_label=_("Any category"),
        widget=forms.Select(attrs={"class": SELECT}),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *ComplaintStatus.choices],
        widget=forms.Select(attrs={"class": SELECT}),
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(
        self,
        *args: Any,
        wards: Sequence[Ward],
        categories: Sequence[ComplaintCategory],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        ward = self.fields["ward"]
        category = self.fields["category"]
        assert isinstance(ward, forms.ModelChoiceField)
        assert isinstance(category, forms.ModelChoiceField)
        ward.queryset = Ward.objects.filter(pk__in=[w.pk for w in wards]).order_by("name")
        category.queryset = ComplaintCategory.objects.filter(
            pk__in=[c.pk for c in categories]
        ).order_by("order", "name_en")


class AssignComplaintForm(forms.Form):
    """Give a complaint to one officer of its department who handles complaints."""

    assignee = forms.ModelChoiceField(
        label=_("Give it to"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Nobody in particular"),
        widget=forms.Select(attrs={"class": SELECT}),
    )

    def __init__(self, *args: Any, department: Department, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assignee = self.fields["assignee"]
        assert isinstance(assignee, forms.ModelChoiceField)
        assignee.queryset = (
            User.objects.filter(
                is_active=True,
                role_assignments__department=department,
                role_assignments__role__in=roles_granting("eservices.handle_complaint"),
            )
            .distinct()
            .order_by("full_name", "username")
        )
