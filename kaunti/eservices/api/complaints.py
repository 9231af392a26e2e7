"""Complaints through the API: a citizen's own, and staff handling their departments'."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kaunti.accounts.api_permissions import HasAction, IsCitizen, is_verified_api_caller
from kaunti.core.api import problems
from kaunti.core.api_support import api_user, is_citizen, service_refusal, validated
from kaunti.core.selectors import list_wards
from kaunti.eservices.models import Complaint
from kaunti.eservices.selectors import catalogue
from kaunti.eservices.selectors import complaints as complaint_selectors
from kaunti.eservices.serializers import ComplaintActionInput, ComplaintCreateInput, ComplaintOutput
from kaunti.eservices.services import complaints as complaint_services

VIEW_COMPLAINTS = "eservices.view_complaints"


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
