"""An application's files through the API: an uploaded document's content, the issued
document as a PDF."""

from django.http import FileResponse, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.views import APIView

from kaunti.accounts.api_permissions import HasAction, IsCitizen
from kaunti.core.api import problems
from kaunti.eservices.api.access import STEP_ACTIONS, VIEW_APPLICATIONS, application_to_view
from kaunti.eservices.definitions.language import current_language
from kaunti.eservices.selectors import applications as application_selectors


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
        application = application_to_view(request, reference)
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
        application = application_to_view(request, reference)
        rendered = application_selectors.render_issued_document(
            user=request.user, reference=application.reference, language=current_language()
        )
        if rendered is None:
            raise exceptions.NotFound(_("Nothing has been issued for this application."))
        response = HttpResponse(rendered.content, content_type=rendered.content_type)
        response["Content-Disposition"] = f'attachment; filename="{rendered.filename}"'
        response["X-Content-Type-Options"] = "nosniff"
        return response
