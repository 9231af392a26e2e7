"""API plumbing shared by every app (errors as RFC 9457 problem details), reference data, jobs."""

from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from kaunti.core import selectors
from kaunti.core.models import Department, Job, Ward

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_details_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Answer every API error as `application/problem+json` (RFC 9457).

    `type` is `about:blank` with the HTTP status `title`; validation errors list each
    field's messages under `errors`.
    """
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": response.status_text,
        "status": response.status_code,
    }
    request = context.get("request")
    if request is not None:
        body["instance"] = request.path
    if isinstance(exc, exceptions.ValidationError):
        body["detail"] = "The request has invalid fields."
        body["errors"] = response.data
    elif isinstance(exc, exceptions.APIException):
        body["detail"] = str(exc.detail)
    wait = getattr(exc, "wait", None)
    if isinstance(exc, exceptions.Throttled) and wait is not None:
        body["retry_after"] = int(wait)
    response.data = body
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


# The shape of every refusal, for the OpenAPI schema of each app's API.
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "example": "about:blank"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "object", "description": "Each invalid field's messages."},
    },
    "required": ["type", "title", "status"],
}


def problems(*codes: int) -> dict[Any, OpenApiResponse]:
    """Schema entries for refusals: `application/problem+json` documents."""
    return {
        (code, PROBLEM_CONTENT_TYPE): OpenApiResponse(
            response=PROBLEM_SCHEMA, description="A problem details document (RFC 9457)."
        )
        for code in codes
    }


def document_refusals_of_every_operation(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the refusals any operation may give, whatever
    its view says, are in the schema too. A 400 for a character the database cannot store
    (`RefuseUnstorableInputMiddleware`, before any view) and a 429 when the caller is over
    the rate limit (the throttles apply to every operation)."""
    problem = {
        PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_SCHEMA},
    }
    descriptions = {
        "400": "A problem details document (RFC 9457): invalid input.",
        "429": "A problem details document (RFC 9457): too many requests; see `retry_after`.",
    }
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, description in descriptions.items():
                documented = responses.setdefault(code, {"description": description})
                documented.setdefault("content", {}).setdefault(
                    PROBLEM_CONTENT_TYPE, problem[PROBLEM_CONTENT_TYPE]
                )
    return result


def problem_response(*, status_code: int, title: str, detail: str) -> Response:
    """A problem-details response for refusals a view makes itself."""
    return Response(
        {"type": "about:blank", "title": title, "status": status_code, "detail": detail},
        status=status_code,
        content_type=PROBLEM_CONTENT_TYPE,
    )


__all__ = ["problem_details_handler", "problem_response", "status"]


# --- Reference data ---------------------------------------------------------------------


class WardOutput(serializers.ModelSerializer):
    sub_county = serializers.CharField(source="sub_county.name")
    sub_county_code = serializers.CharField(source="sub_county.code")

    class Meta:
        model = Ward
        fields = ["code", "name", "sub_county", "sub_county_code"]


class DepartmentOutput(serializers.ModelSerializer):
    parent_code = serializers.CharField(
        source="parent.code", default=None, read_only=True, allow_null=True
    )

    class Meta:
        model = Department
        fields = ["code", "name", "name_sw", "parent_code"]


@extend_schema(summary="The county's wards with their sub-counties")
class WardListApi(generics.ListAPIView):
    permission_classes = [permissions.AllowAny]
    serializer_class = WardOutput
    pagination_class = None

    def get_queryset(self) -> QuerySet[Ward]:
        return selectors.list_wards()


@extend_schema(summary="The county's departments and directorates")
class DepartmentListApi(generics.ListAPIView):
    permission_classes = [permissions.AllowAny]
    serializer_class = DepartmentOutput
    pagination_class = None

    def get_queryset(self) -> QuerySet[Department]:
        return selectors.list_departments().select_related("parent")


# --- Background jobs --------------------------------------------------------------------


class JobOutput(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = Job
        fields = ["public_id", "kind", "description", "state", "done", "total", "percent", "error"]


class JobApi(APIView):
    """A background job's progress, for verified staff who may watch jobs (`core.view_jobs`)."""

    @extend_schema(
        responses={200: JobOutput, **problems(401, 403, 404)},
        summary="A background job's progress",
    )
    def get(self, request: Request, public_id: UUID) -> Response:
        job = selectors.get_job(user=request.user, public_id=public_id)
        if job is None:
            raise exceptions.NotFound(_("There is no job with this id."))
        return Response(JobOutput(job).data)
