"""The payments HTTP API: bills, M-Pesa prompts, receipts and the revenue report.

Thin views: parse with an input serializer, call one service or selector, answer with an
output serializer. Errors are problem details (kaunti.core.api). Reads are scoped as on
the staff pages (kaunti.payments.selectors): staff see the departments where they hold a
role granting the action (another department's bill is a 403), citizens the bills raised
in their name (anyone else's is a 404, so a citizen learns no other numbers).
"""

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kaunti.accounts.api_permissions import HasAction, IsCitizen, is_verified_api_caller, may
from kaunti.core.api import problem_response, problems
from kaunti.core.api_support import api_user, is_citizen, service_refusal, validated
from kaunti.core.identifiers import normalise_phone
from kaunti.payments.models import Bill, Receipt, StkRequest
from kaunti.payments.mpesa.stk import IdempotencyConflict, request_stk_push
from kaunti.payments.numbering import normalise_bill_number
from kaunti.payments.selectors.bills import (
    access_bill_for_staff,
    bills_viewable_by,
    get_bill_for_counter,
    list_bill_history,
    list_bill_payments,
    list_bills_for_staff,
)
from kaunti.payments.selectors.citizens import (
    get_citizen_bill,
    get_citizen_receipt,
    list_citizen_bills,
)
from kaunti.payments.selectors.receipts import access_receipt_for_staff
from kaunti.payments.selectors.reports import RevenueFilter, summarise_revenue
from kaunti.payments.serializers import (
    BillCreateInput,
    BillDetailOutput,
    BillListQuery,
    BillSummaryOutput,
    ReceiptOutput,
    RevenueReportOutput,
    RevenueReportQuery,
    StkPushInput,
    StkPushOutput,
    StkStatusOutput,
)
from kaunti.payments.services import bills as bill_services

if TYPE_CHECKING:
    from rest_framework.permissions import _SupportsHasPermission

VIEW_BILLS = "payments.view_bills"
PAY_ACTIONS = ("payments.receive_payment", "payments.raise_bill")
# Visible ASCII, as the Idempotency-Key draft (draft-ietf-httpapi-idempotency-key) expects;
# 64 characters leave room for the caller's id the key is stored under.
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,64}$")


# --- Scoped reads (kaunti.payments.selectors does the scoping) ------------------------------


def _visible_bills(request: Request) -> QuerySet[Bill]:
    if is_citizen(request):
        return list_citizen_bills(user=request.user)
    if not is_verified_api_caller(request):
        return Bill.objects.none()
    return list_bills_for_staff(user=request.user)


def _bill_to_view(request: Request, number: str) -> Bill | None:
    """None: no such bill (or a citizen's other bills); `PermissionDenied` for staff of
    another department, as on the staff pages."""
    if is_citizen(request):
        return get_citizen_bill(user=request.user, number=number)
    return access_bill_for_staff(user=request.user, number=number, action=VIEW_BILLS)


def _bill_to_pay(request: Request, number: str) -> Bill | None:
    """Citizens pay their own bills; cashiers any department's, as at the county counter;
    revenue officers the bills of their departments."""
    if is_citizen(request):
        return get_citizen_bill(user=request.user, number=number)
    if may(request, "payments.receive_payment"):
        return get_bill_for_counter(number=number)
    return access_bill_for_staff(user=request.user, number=number, action="payments.raise_bill")


def _visible_stk_request(request: Request, public_id: UUID) -> StkRequest | None:
    """A prompt its initiator, its bill's payer, or staff who may view its bill can see."""
    user = request.user
    visible = Q(initiated_by=user)
    if is_citizen(request):
        visible |= Q(bill__payer_user=user)
    elif is_verified_api_caller(request):
        visible |= Q(bill__in=bills_viewable_by(user))
    else:
        return None
    return (
        StkRequest.objects.select_related("bill", "payment__receipt")
        .filter(visible, public_id=public_id)
        .first()
    )


def _receipt_to_view(request: Request, number: str) -> Receipt | None:
    if is_citizen(request):
        return get_citizen_receipt(user=request.user, number=number)
    return access_receipt_for_staff(user=request.user, number=number)


def _bill_detail(bill: Bill, request: Request) -> dict[str, Any]:
    context = {
        "request": request,
        "payments": list_bill_payments(bill=bill),
        "allocations": bill.allocations.select_related("payment").order_by("created_at", "pk"),
        "history": list_bill_history(bill=bill),
    }
    return dict(BillDetailOutput(bill, context=context).data)


# --- Bills --------------------------------------------------------------------------------


class BillListApi(generics.GenericAPIView):
    """Bills: list those the caller may see, or raise a new one."""

    serializer_class = BillSummaryOutput

    def get_permissions(self) -> Sequence["_SupportsHasPermission"]:
        if self.request.method == "POST":
            return [HasAction("payments.raise_bill")()]
        return [(IsCitizen | HasAction(VIEW_BILLS))()]

    @extend_schema(
        operation_id="list_bills",
        summary="List bills",
        description=(
            "Staff see the bills of the departments where they may view bills; a citizen "
            "sees the bills raised in their name."
        ),
        parameters=[BillListQuery],
        responses={200: BillSummaryOutput(many=True), **problems(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        query = validated(BillListQuery, request.query_params)
        bills = _visible_bills(request).select_related("department", "ward")
        if query.get("status"):
            bills = bills.filter(status=query["status"])
        if query.get("number"):
            bills = bills.filter(number=normalise_bill_number(query["number"]))
        if query.get("phone"):
            try:
                bills = bills.filter(payer_phone=normalise_phone(query["phone"]))
            except DjangoValidationError as exc:
                raise exceptions.ValidationError({"phone": exc.messages}) from exc
        page = self.paginate_queryset(bills.order_by("-created_at", "-pk"))
        output = BillSummaryOutput(page, many=True, context={"request": request})
        return self.get_paginated_response(output.data)

    @extend_schema(
        operation_id="raise_bill",
        summary="Raise a bill",
        description="Needs payments.raise_bill in the bill's department.",
        request=BillCreateInput,
        responses={201: BillDetailOutput, **problems(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validated(BillCreateInput, request.data)
        if not may(request, "payments.raise_bill", data["department"]):
            raise exceptions.PermissionDenied(_("You may not raise bills for this department."))
        payer = data["payer"]
        try:
            bill = bill_services.create_bill(
                payer=bill_services.Payer(
                    name=payer["name"],
                    phone=payer["phone"],
                    id_number=payer["id_number"],
                    kra_pin=payer["kra_pin"],
                    user=payer["user"],
                ),
                lines=[
                    bill_services.LineInput(
                        stream_code=line["stream"],
                        quantity=line["quantity"],
                        unit_price=line["unit_price"],
                        description=line["description"],
                    )
                    for line in data["lines"]
                ],
                department=data["department"],
                ward=data["ward"],
                due_on=data["due_on"],
                description=data["description"],
                actor=request.user,
            )
        except DjangoValidationError as exc:
            raise service_refusal(exc) from exc
        location = request.build_absolute_uri(reverse("api:bill", args=[bill.number]))
        return Response(
            _bill_detail(bill, request),
            status=status.HTTP_201_CREATED,
            headers={"Location": location},
        )


class BillDetailApi(APIView):
    permission_classes = [IsCitizen | HasAction(VIEW_BILLS)]

    @extend_schema(
        operation_id="get_bill",
        summary="A bill with its balance, lines, payments, allocations and history",
        responses={200: BillDetailOutput, **problems(401, 403, 404)},
    )
    def get(self, request: Request, number: str) -> Response:
        bill = _bill_to_view(request, number)
        if bill is None:
            raise exceptions.NotFound(_("There is no bill with this number."))
        return Response(_bill_detail(bill, request))


# --- M-Pesa prompts -----------------------------------------------------------------------


class StkPushApi(APIView):
    permission_classes = [IsCitizen | HasAction(*PAY_ACTIONS)]

    @extend_schema(
        operation_id="request_stk_push",
        summary="Prompt a phone to pay a bill by M-Pesa (STK push)",
        description=(
            "The prompt is sent in the background; follow `status_url`. The same "
            "Idempotency-Key (per caller) returns the same request with 200 instead of "
            "prompting twice; reusing a key for another bill is a 409. Citizens may pay "
            "their own bills; staff with payments.receive_payment or payments.raise_bill "
            "the bills of their departments."
        ),
        request=StkPushInput,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=True,
                description="A unique key per payment attempt (e.g. a UUID), 1 to 64 characters.",
            )
        ],
        responses={202: StkPushOutput, 200: StkPushOutput, **problems(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key", "").strip()
        if not IDEMPOTENCY_KEY.match(key):
            return problem_response(
                status_code=status.HTTP_400_BAD_REQUEST,
                title="Bad Request",
                detail=_("Send an Idempotency-Key header of 1 to 64 visible characters."),
            )
        data = validated(StkPushInput, request.data)
        bill = _bill_to_pay(request, data["bill_number"])
        if bill is None:
            raise exceptions.NotFound(_("There is no bill with this number."))
        # Keys are the caller's own: another caller's key can neither replay nor block theirs.
        caller = api_user(request)
        stored_key = f"{caller.public_id}:{key}"
        is_replay = StkRequest.objects.filter(idempotency_key=stored_key).exists()
        try:
            stk = request_stk_push(
                bill=bill,
                phone=data["phone"],
                actor=caller,
                amount=data["amount"],
                idempotency_key=stored_key,
                channel="api",
            )
        except IdempotencyConflict:
            return problem_response(
                status_code=status.HTTP_409_CONFLICT,
                title="Conflict",
                detail=_("This Idempotency-Key was already used for another bill."),
            )
        except DjangoValidationError as exc:
            raise service_refusal(exc) from exc
        body = StkPushOutput(stk, context={"request": request}).data
        if is_replay:
            return Response(body, status=status.HTTP_200_OK)
        return Response(
            body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["status_url"]}
        )


class StkStatusApi(APIView):
    permission_classes = [IsCitizen | HasAction(VIEW_BILLS, *PAY_ACTIONS)]

    @extend_schema(
        operation_id="get_stk_request",
        summary="Where an M-Pesa prompt stands",
        responses={200: StkStatusOutput, **problems(401, 403, 404)},
    )
    def get(self, request: Request, public_id: UUID) -> Response:
        stk = _visible_stk_request(request, public_id)
        if stk is None:
            raise exceptions.NotFound(_("There is no payment request with this id."))
        return Response(StkStatusOutput(stk, context={"request": request}).data)


# --- Receipts -----------------------------------------------------------------------------


class ReceiptApi(APIView):
    permission_classes = [IsCitizen | HasAction(VIEW_BILLS)]

    @extend_schema(
        operation_id="get_receipt",
        summary="A receipt with its payment and bill",
        responses={200: ReceiptOutput, **problems(401, 403, 404)},
    )
    def get(self, request: Request, number: str) -> Response:
        receipt = _receipt_to_view(request, number)
        if receipt is None:
            raise exceptions.NotFound(_("There is no receipt with this number."))
        return Response(ReceiptOutput(receipt, context={"request": request}).data)


# --- Revenue report -----------------------------------------------------------------------


class RevenueReportApi(APIView):
    permission_classes = [HasAction("payments.view_reports")]

    @extend_schema(
        operation_id="get_revenue_report",
        summary="Collections between two dates, grouped by stream, ward, channel, day or month",
        parameters=[RevenueReportQuery],
        responses={200: RevenueReportOutput, **problems(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        query = validated(RevenueReportQuery, request.query_params)
        summary = summarise_revenue(
            revenue_filter=RevenueFilter(
                start=query["from"],
                end=query["to"],
                stream_code=query.get("stream", ""),
                ward_code=query.get("ward", ""),
                channel=query.get("channel", ""),
            ),
            group_by=query["group_by"],
            language=request.LANGUAGE_CODE,
        )
        return Response(RevenueReportOutput(summary).data)
