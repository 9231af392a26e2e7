"""The catalogue of services, as the API shows it to anyone."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kaunti.core.api import problems
from kaunti.eservices.definitions.form import FieldType, parse_sections
from kaunti.eservices.definitions.language import current_language
from kaunti.eservices.selectors import catalogue
from kaunti.eservices.serializers import ServiceDetailOutput, ServiceSummaryOutput


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
