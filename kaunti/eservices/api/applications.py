"""A citizen's applications through the API: start, answer, see the fees, upload, submit."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kaunti.accounts.api_permissions import HasAction, IsCitizen
from kaunti.core.api import problems
from kaunti.core.api_support import api_user, is_citizen, service_refusal, validated
from kaunti.eservices.api.access import (
    STEP_ACTIONS,
    VIEW_APPLICATIONS,
    application_to_view,
    own_application,
)
from kaunti.eservices.models import Application, ApplicationStatus
from kaunti.eservices.selectors import applications as application_selectors
from kaunti.eservices.selectors import catalogue
from kaunti.eservices.serializers import (
    ApplicationCreateInput,
    ApplicationDetailOutput,
    ApplicationOutput,
    ApplicationStartOutput,
    ApplicationSubmitInput,
    ApplicationUpdateInput,
    DocumentOutput,
    DocumentUploadInput,
    DraftUpdateOutput,
    FeesOutput,
    fees_data,
)
from kaunti.eservices.services import applications as application_services


def _detail(application: Application, *, for_applicant: bool) -> dict[str, Any]:
    application.timeline = list(  # type: ignore[attr-defined]
        application_selectors.list_application_timeline(
            application=application, for_applicant=for_applicant
        ).select_related(None)  # the answer shows no actor or step of an entry
    )
    return dict(ApplicationDetailOutput(application).data)


class ApplicationListApi(APIView):
    permission_classes = [IsCitizen]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

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
        description=(
            "With `answers`, the answers are saved as PATCH would; in a multipart form, each "
            "file field named after a document kind the service asks for (`id_copy`, ...) "
            "is attached as the documents call would; with `submit`, the application is then "
            "submitted (the bill raised) when nothing needs fixing. One call for what "
            "otherwise takes several. Anything wrong is listed in `errors` by field or "
            "document, the draft is kept with everything else, and it is not submitted."
        ),
        request={
            "application/json": ApplicationCreateInput,
            "multipart/form-data": ApplicationCreateInput,
        },
        responses={201: ApplicationStartOutput, **problems(400, 401, 403, 404)},
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
            started = application_services.start_application(
                applicant=api_user(request),
                service=service,
                renewal_of=renewal_of,
                answers=data.get("answers"),
                documents=dict(request.FILES.items()),
                submit=data["submit"],
            )
        except DjangoValidationError as exc:
            raise service_refusal(exc) from exc
        return Response(
            {**ApplicationOutput(started.application).data, "errors": started.errors},
            status=status.HTTP_201_CREATED,
        )


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
        application = application_to_view(request, reference)
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
        application = own_application(request, reference)
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
        application = own_application(request, reference)
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
        application = own_application(request, reference)
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
        application = application_to_view(request, reference)
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
        application = own_application(request, reference)
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
