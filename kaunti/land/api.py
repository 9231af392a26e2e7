"""The land HTTP API: parcels (search, detail, statement), the map's GeoJSON and ward
outlines, roll entries, and billing runs with their progress.

Thin views: parse the query with a serializer, call one selector, answer with an output
serializer; errors are problem details (kaunti.core.api). Every view needs a verified staff
caller (second factor, or an API token) holding a role granting its land action in one of
that action's departments (`HasLandAction`, the rule of `kaunti.land.permissions`): Lands,
and for reading parcels and billing also the Revenue Directorate. Citizens, anonymous
callers and staff whose roles are held elsewhere are refused. Parcel numbers in URLs are
written with `-` for `/` (`NYANDARUA-OLKALOU-1234`), as the `url_number` field gives them.
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kaunti.accounts.api_permissions import HasAction
from kaunti.core.api import problems
from kaunti.core.api_support import validated
from kaunti.land.models import Parcel, ValuationRoll
from kaunti.land.permissions import RUN_BILLING, VIEW_PARCELS, land_department_codes, may
from kaunti.land.selectors.balances import parcel_statement
from kaunti.land.selectors.billing import get_billing_run, list_billing_runs
from kaunti.land.selectors.maps import list_map_parcels, load_ward_outlines
from kaunti.land.selectors.parcels import current_ownerships, get_parcel_with_rates, search_parcels
from kaunti.land.selectors.rolls import get_roll, list_roll_entries, list_rolls
from kaunti.land.serializers import (
    BillingRunOutput,
    MapQuery,
    ParcelDetailOutput,
    ParcelQuery,
    ParcelSummaryOutput,
    RollEntryOutput,
    RollOutput,
    StartBillingInput,
    StartedBillingOutput,
    StatementOutput,
    feature_collection,
)
from kaunti.land.services import billing_jobs

if TYPE_CHECKING:
    from rest_framework.permissions import _SupportsHasPermission

NUMBER_PARAMETER = OpenApiParameter(
    "number",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The parcel number with `-` for `/`, e.g. NYANDARUA-OLKALOU-1234.",
)
GEOJSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A GeoJSON FeatureCollection (RFC 7946), WGS 84.",
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "truncated": {"type": "boolean"},
        "bbox": {"type": "array", "items": {"type": "number"}, "nullable": True},
        "features": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "type": {"type": "string", "enum": ["Feature"]},
                    "geometry": {"type": "object"},
                    "properties": {
                        "type": "object",
                        "properties": {
                            "number": {"type": "string"},
                            "url_number": {"type": "string"},
                            "ward": {"type": "string"},
                            "land_use": {"type": "string"},
                            "status": {
                                "type": "string",
                                "enum": ["paid", "arrears", "not_on_roll"],
                            },
                            "balance": {"type": "string"},
                            "url": {"type": "string"},
                        },
                    },
                },
            },
        },
    },
}


class _LandActionPermission(BasePermission):
    """Granted when the caller passes `HasAction(*actions)` (verified, and a role granting
    one of `actions` somewhere) and holds that role in one of the action's land departments
    (`kaunti.land.permissions.may`)."""

    actions: tuple[str, ...] = ()
    anywhere: type[BasePermission] = BasePermission
    message = gettext_lazy("You do not have permission to perform this action.")

    def has_permission(self, request: Request, view: Any) -> bool:
        anywhere = self.anywhere()
        if not anywhere.has_permission(request, view):
            self.message = getattr(anywhere, "message", self.message)
            return False
        return may(request.user, *self.actions)


def HasLandAction(*actions: str) -> type[BasePermission]:
    """A permission class granting the request when the caller may do any of the land
    `actions` from a land department; an unknown action fails when the view is defined."""
    anywhere = HasAction(*actions)
    for action in actions:
        land_department_codes(action)
    return type(
        f"HasLandAction({', '.join(actions)})",
        (_LandActionPermission,),
        {"actions": actions, "anywhere": anywhere},
    )


def _parcel(number: str) -> Parcel:
    parcel = get_parcel_with_rates(number=number)
    if parcel is None:
        raise exceptions.NotFound(_("There is no parcel with this number."))
    return parcel


def _roll(public_id: UUID) -> ValuationRoll:
    roll = get_roll(public_id=public_id)
    if roll is None:
        raise exceptions.NotFound(_("There is no roll with this id."))
    return roll


class ParcelListApi(generics.GenericAPIView):
    permission_classes = [HasLandAction(VIEW_PARCELS)]
    # Generic, so that the schema shows the page (count, next, previous, results).
    serializer_class = ParcelSummaryOutput
    pagination_class = PageNumberPagination

    @extend_schema(
        operation_id="list_land_parcels",
        summary="Search parcels by number (normalised), owner's name, ID or KRA PIN, and ward",
        parameters=[ParcelQuery],
        responses={200: ParcelSummaryOutput(many=True), **problems(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        query = validated(ParcelQuery, request.query_params)
        parcels = search_parcels(query=query["q"], ward_code=query["ward"], status=query["status"])
        page = self.paginate_queryset(parcels)
        return self.get_paginated_response(ParcelSummaryOutput(page, many=True).data)


class ParcelDetailApi(APIView):
    permission_classes = [HasLandAction(VIEW_PARCELS)]

    @extend_schema(
        operation_id="get_land_parcel",
        summary="A parcel: particulars, boundary, current owners, transfers and roll entries",
        parameters=[NUMBER_PARAMETER],
        responses={200: ParcelDetailOutput, **problems(401, 403, 404)},
    )
    def get(self, request: Request, number: str) -> Response:
        parcel = _parcel(number)
        parcel.owners = current_ownerships(parcel=parcel)  # type: ignore[attr-defined]
        return Response(ParcelDetailOutput(parcel).data)


class ParcelStatementApi(APIView):
    permission_classes = [HasLandAction(VIEW_PARCELS)]

    @extend_schema(
        operation_id="get_land_parcel_statement",
        summary="A parcel's rates statement: per year arrears b/f, charges, penalties, "
        "payments and balance, and the bills behind them",
        parameters=[NUMBER_PARAMETER],
        responses={200: StatementOutput, **problems(401, 403, 404)},
    )
    def get(self, request: Request, number: str) -> Response:
        parcel = _parcel(number)
        statement = parcel_statement(parcel=parcel)
        return Response(StatementOutput(statement).data)


class ParcelMapApi(APIView):
    permission_classes = [HasLandAction(VIEW_PARCELS)]

    @extend_schema(
        operation_id="get_land_map",
        summary="Parcels as GeoJSON, each with its rates status (paid, arrears, not_on_roll)",
        parameters=[MapQuery],
        responses={
            (200, "application/geo+json"): OpenApiResponse(response=GEOJSON_SCHEMA),
            **problems(400, 401, 403),
        },
    )
    def get(self, request: Request) -> Response:
        query = validated(MapQuery, request.query_params)
        selection = list_map_parcels(bbox=query["bbox"], ward_code=query["ward"])
        # GeoJSON's own media type (RFC 7946), as the schema says.
        return Response(feature_collection(selection), content_type="application/geo+json")


class WardOutlinesApi(APIView):
    permission_classes = [HasLandAction(VIEW_PARCELS)]

    @extend_schema(
        operation_id="get_land_ward_outlines",
        summary="Ward outlines for the map (illustrative in the demo; see `description`)",
        responses={200: OpenApiResponse(response=GEOJSON_SCHEMA), **problems(401, 403)},
    )
    def get(self, request: Request) -> Response:
        return Response(load_ward_outlines())


class RollListApi(APIView):
    permission_classes = [HasLandAction(VIEW_PARCELS)]

    @extend_schema(
        operation_id="list_land_rolls",
        summary="Valuation rolls, newest first, with their entry and pending objection counts",
        responses={200: RollOutput(many=True), **problems(401, 403)},
    )
    def get(self, request: Request) -> Response:
        return Response(RollOutput(list_rolls()[:200], many=True).data)


class RollEntriesApi(generics.GenericAPIView):
    permission_classes = [HasLandAction(VIEW_PARCELS)]
    # Generic, so that the schema shows the page (count, next, previous, results).
    serializer_class = RollEntryOutput
    pagination_class = PageNumberPagination

    @extend_schema(
        operation_id="list_land_roll_entries",
        summary="A roll's entries (parcel, site value, valuation date), by parcel number",
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="Part of a parcel number.")
        ],
        responses={200: RollEntryOutput(many=True), **problems(401, 403, 404)},
    )
    def get(self, request: Request, public_id: UUID) -> Response:
        roll = _roll(public_id)
        entries = list_roll_entries(roll=roll, query=str(request.query_params.get("q", ""))[:120])
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(RollEntryOutput(page, many=True).data)


class BillingRunListApi(APIView):
    permission_classes = [HasLandAction(VIEW_PARCELS, RUN_BILLING)]

    def get_permissions(self) -> Sequence["_SupportsHasPermission"]:
        """Reading runs needs `land.view_parcels` or `land.run_billing`; starting one, the
        latter (each from its land departments)."""
        if self.request.method == "POST":
            return [HasLandAction(RUN_BILLING)()]
        return super().get_permissions()

    @extend_schema(
        operation_id="start_land_billing",
        summary="Start (or resume) a financial year's rates billing in the background",
        request=StartBillingInput,
        responses={202: StartedBillingOutput, **problems(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validated(StartBillingInput, request.data)
        try:
            job = billing_jobs.start_billing_job(
                financial_year=data["financial_year"], actor=request.user
            )
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(serializers.as_serializer_error(exc)) from exc
        body = {
            "job": job.public_id,
            "progress_url": reverse("land:billing_progress", args=[job.public_id]),
        }
        return Response(StartedBillingOutput(body).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        operation_id="list_land_billing_runs",
        summary="Annual rates billing runs, newest first, with their progress",
        responses={200: BillingRunOutput(many=True), **problems(401, 403)},
    )
    def get(self, request: Request) -> Response:
        runs = list_billing_runs()[:200]
        return Response(BillingRunOutput(runs, many=True).data)


class BillingRunDetailApi(APIView):
    permission_classes = [HasLandAction(VIEW_PARCELS, RUN_BILLING)]

    @extend_schema(
        operation_id="get_land_billing_run",
        summary="One billing run's progress: parcels billed of the total, amount, state",
        responses={200: BillingRunOutput, **problems(401, 403, 404)},
    )
    def get(self, request: Request, public_id: UUID) -> Response:
        run = get_billing_run(public_id=public_id)
        if run is None:
            raise exceptions.NotFound(_("There is no billing run with this id."))
        return Response(BillingRunOutput(run).data)
