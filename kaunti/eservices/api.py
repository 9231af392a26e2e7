"""The e-services HTTP API: the catalogue, a citizen's applications and documents, staff
actions on steps, and complaints.

Thin views: parse with an input serializer, call one service or selector, answer with an
output serializer; errors are problem details (kaunti.core.api). Scoping is the pages':
a citizen sees their own applications and complaints (anyone else's is a 404); staff
(second factor or API token) see their departments' (another department's is a 403), and
the services check the right to act on each step again.
"""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kaunti.accounts.api_permissions import HasAction, IsCitizen, is_verified_api_caller
from kaunti.accounts.models import User
from kaunti.core.api import problems
from kaunti.core.api_support import api_user, is_citizen, service_refusal, validated
from kaunti.core.selectors import list_wards
from kaunti.eservices.definitions import FieldType, current_language, parse_sections
from kaunti.eservices.models import Application, ApplicationStatus, ApplicationStep, Complaint
from kaunti.eservices.selectors import applications as application_selectors
from kaunti.eservices.selectors import catalogue
from kaunti.eservices.selectors import complaints as complaint_selectors
from kaunti.eservices.serializers import (
    ApplicationCreateInput,
    ApplicationDetailOutput,
    ApplicationOutput,
    ApplicationSubmitInput,
    ApplicationUpdateInput,
    ComplaintActionInput,
    ComplaintCreateInput,
    ComplaintOutput,
    DocumentOutput,
    DocumentUploadInput,
    DraftUpdateOutput,
    FeesOutput,
    ServiceDetailOutput,
    ServiceSummaryOutput,
    StepActionInput,
    StepAssignmentOutput,
    StepReassignInput,
    WorkQueueOutput,
    fees_data,
)
from kaunti.eservices.services import applications as application_services
from kaunti.eservices.services import complaints as complaint_services
from kaunti.eservices.services import workflow

VIEW_APPLICATIONS = "eservices.view_applications"
STEP_ACTIONS = ("eservices.process_application", "eservices.inspect", "eservices.approve")
VIEW_COMPLAINTS = "eservices.view_complaints"


def _own_application(request: Request, reference: str) -> Application:
    application = application_selectors.get_citizen_application(
        user=request.user, reference=reference, with_page_details=False
    )
    if application is None:
        raise exceptions.NotFound(_("There is no application with this reference."))
    return application


def _application_to_view(request: Request, reference: str) -> Application:
    """The caller's own (citizen) or one of their departments' (staff: 403 otherwise)."""
    if is_citizen(request):
        return _own_application(request, reference)
    if not is_verified_api_caller(request):
        raise exceptions.PermissionDenied()
    application = application_selectors.access_application_for_staff(
        user=request.user, reference=reference
    )
    if application is None:
        raise exceptions.NotFound(_("There is no application with this reference."))
    return application


def _step_to_act_on(request: Request, reference: str, code: str) -> ApplicationStep:
    """The step `code` of an application the caller may view (as `_application_to_view`),
    read with one permission check; the services check the right to act on it."""
    if is_citizen(request):
        application = _own_application(request, reference)
        step = application_selectors.get_step_for_staff(
            user=request.user, application=application, code=code
        )
    else:
        if not is_verified_api_caller(request):
            raise exceptions.PermissionDenied()
        found = application_selectors.access_step_for_staff(
            user=request.user, reference=reference, code=code
        )
        if found is None:
            raise exceptions.NotFound(_("There is no application with this reference."))
        _application, step = found
    if step is None:
        raise exceptions.NotFound(_("There is no such step."))
    return step


def _detail(application: Application, *, for_applicant: bool) -> dict[str, Any]:
    application.timeline = list(  # type: ignore[attr-defined]
        application_selectors.list_application_timeline(
            application=application, for_applicant=for_applicant
        ).select_related(None)  # the answer shows no actor or step of an entry
    )
    return dict(ApplicationDetailOutput(application).data)


# --- Catalogue -----------------------------------------------------------------------------


class ServiceListApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="list_services",
        summary="Services taking applications (searched in English and Kiswahili)",
        responses={200: ServiceSummaryOutput(many=True)},
    )
    def get(self, request: Request) -> Response:
        query = str(request.query_params.get("q", ""))[:100]
        services = catalogue.list_services(query=query).select_related("department")
        return Response(ServiceSummaryOutput(services, many=True).data)


class ServiceDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="get_service",
        summary="A service: its form, required documents and eligibility",
        responses={200: ServiceDetailOutput, **problems(404)},
    )
    def get(self, request: Request, code: str) -> Response:
        service = catalogue.get_service(code=code)
        if service is None or service.current_version is None:
            raise exceptions.NotFound(_("There is no such service."))
        definition = catalogue.get_version_definition(version=service.current_version)
        language = current_language()
        data = {
            "code": service.code,
            "name": service.name(language),
            "description": service.description(language),
            "department": service.department.code,
            "eligibility": service.eligibility(language),
            "version": service.current_version.number,
            "sections": [
                {"code": section.code, "title": section.title(language)}
                for section in parse_sections(service.current_version.sections)
            ],
            "fields": [
                {
                    "name": spec.name,
                    "type": str(spec.type),
                    "label": spec.label(language),
                    "required": spec.required,
                    "section": spec.section,
                    "choices": [
                        {"value": choice.value, "label": choice.label(language)}
                        for choice in spec.choices
                    ],
                }
                for spec in definition.fields
                if spec.type != FieldType.FILE
            ],
            "documents": [
                {
                    "kind": spec.kind,
                    "label": spec.label(language),
                    "required": spec.required,
                    "content_types": sorted(spec.content_types),
                    "max_bytes": spec.max_bytes,
                    "required_on_renewal": spec.required and spec.required_on_renewal,
                }
                for spec in definition.documents
            ],
        }
        return Response(ServiceDetailOutput(data).data)


# --- Applications (citizen) ----------------------------------------------------------------


class ApplicationListApi(APIView):
    permission_classes = [IsCitizen]

    @extend_schema(
        operation_id="list_my_applications",
        summary="The caller's applications, newest first",
        responses={200: ApplicationOutput(many=True), **problems(401, 403)},
    )
    def get(self, request: Request) -> Response:
        applications = application_selectors.list_citizen_applications(user=request.user)[:200]
        return Response(ApplicationOutput(applications, many=True).data)

    @extend_schema(
        operation_id="create_application",
        summary="Start a draft application under the service's current version",
        request=ApplicationCreateInput,
        responses={201: ApplicationOutput, **problems(400, 401, 403, 404)},
    )
    def post(self, request: Request) -> Response:
        data = validated(ApplicationCreateInput, request.data)
        service = catalogue.get_service(code=data["service"])
        if service is None:
            raise exceptions.NotFound(_("There is no such service."))
        renewal_of = (
            application_selectors.get_renewable_application(user=request.user, service=service)
            if data["renew"]
            else None
        )
        try:
            application = application_services.create_draft(
                applicant=api_user(request), service=service, renewal_of=renewal_of
            )
        except DjangoValidationError as exc:
            raise service_refusal(exc) from exc
        return Response(ApplicationOutput(application).data, status=status.HTTP_201_CREATED)


class ApplicationDetailApi(APIView):
    def get_permissions(self) -> list[Any]:
        if self.request.method == "PATCH":
            return [IsCitizen()]
        return [(IsCitizen | HasAction(VIEW_APPLICATIONS, *STEP_ACTIONS))()]

    @extend_schema(
        operation_id="get_application",
        summary="An application: status, answers, steps and timeline",
        description="The applicant sees their own timeline; staff see the whole history.",
        responses={200: ApplicationDetailOutput, **problems(401, 403, 404)},
    )
    def get(self, request: Request, reference: str) -> Response:
        application = _application_to_view(request, reference)
        return Response(_detail(application, for_applicant=is_citizen(request)))

    @extend_schema(
        operation_id="update_application_draft",
        summary="Save answers to a draft (or a returned application)",
        description="Answers are saved even where wrong; `errors` says what to fix.",
        request=ApplicationUpdateInput,
        responses={200: DraftUpdateOutput, **problems(400, 401, 403, 404)},
    )
    def patch(self, request: Request, reference: str) -> Response:
        data = validated(ApplicationUpdateInput, request.data)
        application = _own_application(request, reference)
        try:
            update = application_services.update_draft(
                application=application, actor=api_user(request), answers=data["answers"]
            )
        except DjangoValidationError as exc:
            raise service_refusal(exc) from exc
        return Response(
            {"application": ApplicationOutput(update.application).data, "errors": update.errors}
        )


class ApplicationFeesApi(APIView):
    permission_classes = [IsCitizen]

    @extend_schema(
        operation_id="preview_application_fees",
        summary="The fee, line by line, as it would be billed now (as billed once submitted)",
        responses={200: FeesOutput, **problems(400, 401, 403, 404)},
    )
    def get(self, request: Request, reference: str) -> Response:
        application = _own_application(request, reference)
        try:
            fees = application_selectors.preview_fees(user=request.user, application=application)
        except DjangoValidationError as exc:
            raise service_refusal(exc) from exc
        return Response(FeesOutput(fees_data(fees)).data)


class ApplicationSubmitApi(APIView):
    permission_classes = [IsCitizen]

    @extend_schema(
        operation_id="submit_application",
        summary="Submit a draft (raises the bill) or resubmit a returned application",
        request=ApplicationSubmitInput,
        responses={200: ApplicationOutput, **problems(400, 401, 403, 404)},
    )
    def post(self, request: Request, reference: str) -> Response:
        data = validated(ApplicationSubmitInput, request.data)
        application = _own_application(request, reference)
        try:
            if application.status == ApplicationStatus.RETURNED:
                application = application_services.resubmit_application(
                    application=application, actor=api_user(request), note=data["note"]
                )
            else:
                application = application_services.submit_application(
                    application=application, actor=api_user(request)
                )
        except DjangoValidationError as exc:
            raise service_refusal(exc) from exc
        return Response(ApplicationOutput(application).data)


class ApplicationDocumentsApi(APIView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_permissions(self) -> list[Any]:
        if self.request.method == "POST":
            return [IsCitizen()]
        return [(IsCitizen | HasAction(VIEW_APPLICATIONS, *STEP_ACTIONS))()]

    @extend_schema(
        operation_id="list_application_documents",
        summary="The documents of an application",
        responses={200: DocumentOutput(many=True), **problems(401, 403, 404)},
    )
    def get(self, request: Request, reference: str) -> Response:
        application = _application_to_view(request, reference)
        documents = application_selectors.list_application_documents(application=application)
        return Response(DocumentOutput(documents, many=True).data)

    @extend_schema(
        operation_id="upload_application_document",
        summary="Upload one required document (PDF, JPEG or PNG, checked by content)",
        request={"multipart/form-data": DocumentUploadInput},
        responses={201: DocumentOutput, **problems(400, 401, 403, 404)},
    )
    def post(self, request: Request, reference: str) -> Response:
        data = validated(DocumentUploadInput, request.data)
        application = _own_application(request, reference)
        try:
            document = application_services.attach_document(
                application=application,
                actor=api_user(request),
                kind=data["kind"],
                upload=data["file"],
            )
        except DjangoValidationError as exc:
            raise service_refusal(exc) from exc
        return Response(DocumentOutput(document).data, status=status.HTTP_201_CREATED)


# --- Staff ---------------------------------------------------------------------------------


class WorkQueueApi(APIView):
    permission_classes = [HasAction(*STEP_ACTIONS)]

    @extend_schema(
        operation_id="list_work_queue",
        summary="Open steps the caller may act on, soonest due first",
        responses={200: WorkQueueOutput(many=True), **problems(401, 403)},
    )
    def get(self, request: Request) -> Response:
        steps = application_selectors.list_work_queue(
            user=request.user,
            service_code=str(request.query_params.get("service", ""))[:40],
            ward_code=str(request.query_params.get("ward", ""))[:10],
            overdue_only=request.query_params.get("overdue") == "true",
        )[:200]
        return Response(WorkQueueOutput(steps, many=True).data)


class StepActionApi(APIView):
    permission_classes = [HasAction(*STEP_ACTIONS)]

    @extend_schema(
        operation_id="act_on_application_step",
        summary="approve, reject, return (for changes) or inspect one step",
        description=(
            "The caller needs the step kind's action in the step's department; reject and "
            "return need a note, inspect needs `passed`."
        ),
        request=StepActionInput,
        responses={200: ApplicationOutput, **problems(400, 401, 403, 404)},
    )
    def post(self, request: Request, reference: str, code: str, action: str) -> Response:
        if action not in ("approve", "reject", "return", "inspect"):
            raise exceptions.NotFound(_("There is no such action."))
        data = validated(StepActionInput, request.data)
        step = _step_to_act_on(request, reference, code)
        actor = api_user(request)
        try:
            if action == "approve":
                application = workflow.approve_step(step=step, actor=actor, note=data["note"])
            elif action == "reject":
                application = workflow.reject_application(
                    step=step, actor=actor, reason=data["note"]
                )
            elif action == "return":
                application = workflow.return_for_changes(step=step, actor=actor, note=data["note"])
            else:
                if data["passed"] is None:
                    raise exceptions.ValidationError({"passed": [_("Say whether it passed.")]})
                application = workflow.record_inspection_result(
                    step=step, actor=actor, passed=data["passed"], notes=data["note"]
                )
        except DjangoValidationError as exc:
            raise service_refusal(exc) from exc
        # The services answer with the application as they left it (read under its lock,
        # with what the answer shows): no second read.
        return Response(ApplicationOutput(application).data)


REASSIGN = "eservices.reassign"


class StepReassignApi(APIView):
    permission_classes = [HasAction(REASSIGN)]

    @extend_schema(
        operation_id="reassign_application_step",
        summary="A supervisor gives a step to one officer, or back to the whole team",
        description=(
            "Needs the supervisor role in the step's department; the officer must hold the "
            "step's role there, and separation of duties applies."
        ),
        request=StepReassignInput,
        responses={200: StepAssignmentOutput, **problems(400, 401, 403, 404)},
    )
    def post(self, request: Request, reference: str, code: str) -> Response:
        data = validated(StepReassignInput, request.data)
        application = _application_to_view(request, reference)
        step = application_selectors.get_step_for_staff(
            user=request.user, application=application, code=code
        )
        if step is None:
            raise exceptions.NotFound(_("There is no such step."))
        assignee = None
        if data.get("assignee"):
            assignee = User.objects.filter(username=data["assignee"], is_active=True).first()
            if assignee is None:
                raise exceptions.ValidationError({"assignee": [_("There is no such officer.")]})
        try:
            step = workflow.reassign_step(
                step=step, actor=api_user(request), assignee=assignee, reason=data["reason"]
            )
        except DjangoValidationError as exc:
            raise service_refusal(exc) from exc
        return Response(StepAssignmentOutput(step).data)


class ApplicationDocumentContentApi(APIView):
    permission_classes = [IsCitizen | HasAction(VIEW_APPLICATIONS, *STEP_ACTIONS)]

    @extend_schema(
        operation_id="download_application_document",
        summary="The file of one document of an application (applicant and permitted staff)",
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            **problems(401, 403, 404),
        },
    )
    def get(self, request: Request, reference: str, public_id: str) -> FileResponse:
        application = _application_to_view(request, reference)
        document = application_selectors.list_application_documents(
            application=application, include_superseded=True
        ).filter(public_id=public_id)
        stored = (
            application_selectors.open_application_document(user=request.user, public_id=public_id)
            if document.exists()
            else None
        )
        if stored is None:
            raise exceptions.NotFound(_("There is no such document."))
        response = FileResponse(
            stored.open(),
            as_attachment=True,
            filename=stored.display_name,
            content_type=stored.content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response


class IssuedDocumentPdfApi(APIView):
    permission_classes = [IsCitizen | HasAction(VIEW_APPLICATIONS, *STEP_ACTIONS)]

    @extend_schema(
        operation_id="download_issued_document",
        summary="The issued permit, licence or certificate as a PDF with its QR code",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **problems(401, 403, 404)},
    )
    def get(self, request: Request, reference: str) -> HttpResponse:
        application = _application_to_view(request, reference)
        rendered = application_selectors.render_issued_document(
            user=request.user, reference=application.reference, language=current_language()
        )
        if rendered is None:
            raise exceptions.NotFound(_("Nothing has been issued for this application."))
        response = HttpResponse(rendered.content, content_type=rendered.content_type)
        response["Content-Disposition"] = f'attachment; filename="{rendered.filename}"'
        response["X-Content-Type-Options"] = "nosniff"
        return response


# --- Complaints ----------------------------------------------------------------------------


def _complaint_to_view(request: Request, reference: str) -> Complaint:
    if is_citizen(request):
        complaint = complaint_selectors.get_citizen_complaint(
            user=request.user, reference=reference
        )
    elif is_verified_api_caller(request):
        complaint = complaint_selectors.access_complaint_for_staff(
            user=request.user, reference=reference
        )
    else:
        raise exceptions.PermissionDenied()
    if complaint is None:
        raise exceptions.NotFound(_("There is no complaint with this reference."))
    return complaint


class ComplaintListApi(APIView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_permissions(self) -> list[Any]:
        if self.request.method == "POST":
            return [IsCitizen()]
        return [(IsCitizen | HasAction(VIEW_COMPLAINTS))()]

    @extend_schema(
        operation_id="list_complaints",
        summary="A citizen's own complaints, or staff's inbox",
        responses={200: ComplaintOutput(many=True), **problems(401, 403)},
    )
    def get(self, request: Request) -> Response:
        if is_citizen(request):
            complaints = complaint_selectors.list_citizen_complaints(user=request.user)
        else:
            complaints = complaint_selectors.list_complaint_inbox(
                user=request.user, status=str(request.query_params.get("status", ""))[:20]
            )
        return Response(ComplaintOutput(complaints[:200], many=True).data)

    @extend_schema(
        operation_id="file_complaint",
        summary="File a complaint or suggestion (routed to the category's department)",
        request={
            "multipart/form-data": ComplaintCreateInput,
            "application/json": ComplaintCreateInput,
        },
        responses={201: ComplaintOutput, **problems(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validated(ComplaintCreateInput, request.data)
        category = catalogue.list_complaint_categories().filter(code=data["category"]).first()
        ward = list_wards().filter(code=data["ward"]).first()
        if category is None or ward is None:
            raise exceptions.ValidationError(
                {
                    **({"category": [_("Choose a category.")]} if category is None else {}),
                    **({"ward": [_("Choose a ward of the county.")]} if ward is None else {}),
                }
            )
        try:
            complaint = complaint_services.file_complaint(
                complainant=api_user(request),
                category=category,
                ward=ward,
                description=data["description"],
                kind=data["kind"],
                photo=data["photo"],
                latitude=data["latitude"],
                longitude=data["longitude"],
                location_text=data["location_text"],
            )
        except DjangoValidationError as exc:
            raise service_refusal(exc) from exc
        return Response(ComplaintOutput(complaint).data, status=status.HTTP_201_CREATED)


class ComplaintDetailApi(APIView):
    permission_classes = [IsCitizen | HasAction(VIEW_COMPLAINTS)]

    @extend_schema(
        operation_id="get_complaint",
        summary="One complaint",
        responses={200: ComplaintOutput, **problems(401, 403, 404)},
    )
    def get(self, request: Request, reference: str) -> Response:
        return Response(ComplaintOutput(_complaint_to_view(request, reference)).data)


CITIZEN_COMPLAINT_ACTIONS = ("rate", "reopen")
STAFF_COMPLAINT_ACTIONS = ("start", "resolve")


class ComplaintActionApi(APIView):
    permission_classes = [IsCitizen | HasAction(VIEW_COMPLAINTS)]

    @extend_schema(
        operation_id="act_on_complaint",
        summary="rate or reopen (the complainant); start or resolve (staff)",
        request=ComplaintActionInput,
        responses={
            200: ComplaintOutput,
            **problems(400, 401, 403),
            404: OpenApiResponse(description="No such complaint or action."),
        },
    )
    def post(self, request: Request, reference: str, action: str) -> Response:
        allowed = CITIZEN_COMPLAINT_ACTIONS if is_citizen(request) else STAFF_COMPLAINT_ACTIONS
        if action not in allowed:
            raise exceptions.NotFound(_("There is no such action."))
        data = validated(ComplaintActionInput, request.data)
        complaint = _complaint_to_view(request, reference)
        actor = api_user(request)
        try:
            if action == "rate":
                if data.get("rating") is None:
                    raise exceptions.ValidationError({"rating": [_("Give a rating from 1 to 5.")]})
                complaint = complaint_services.rate_complaint_resolution(
                    complaint=complaint, actor=actor, rating=data["rating"], comment=data["text"]
                )
            elif action == "reopen":
                complaint = complaint_services.reopen_complaint(
                    complaint=complaint, actor=actor, reason=data["text"]
                )
            elif action == "start":
                complaint = complaint_services.start_handling_complaint(
                    complaint=complaint, actor=actor
                )
            else:
                complaint = complaint_services.resolve_complaint(
                    complaint=complaint, actor=actor, resolution=data["text"]
                )
        except DjangoValidationError as exc:
            raise service_refusal(exc) from exc
        return Response(ComplaintOutput(complaint).data)
