"""Shapes of the payments API: one input and one output serializer per operation.

They check shape (and that referenced rows exist), nothing more: the rules live in the
services. Money goes out as strings with two decimals ("1500.00"), never floats.
"""

from decimal import Decimal
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kaunti.accounts.models import User, UserKind
from kaunti.core.fields import AsciiDecimalInput
from kaunti.core.models import AuditEvent
from kaunti.core.selectors import list_departments, list_wards
from kaunti.payments.models import (
    Allocation,
    Bill,
    BillLine,
    BillStatus,
    Channel,
    Payment,
    Receipt,
    StkRequest,
    StkStatus,
)
from kaunti.payments.selectors.bills import BillPaymentRow
from kaunti.payments.selectors.reports import GROUPINGS, MAX_REPORT_DAYS, NO_WARD

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}
CENT = Decimal("0.01")


def _absolute(context: dict[str, Any], path: str) -> str:
    request = context.get("request")
    return request.build_absolute_uri(path) if request is not None else path


# --- Raise a bill -----------------------------------------------------------------------


class PayerInput(serializers.Serializer):
    name = serializers.CharField(max_length=150)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    id_number = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    kra_pin = serializers.CharField(max_length=11, required=False, allow_blank=True, default="")
    user = serializers.SlugRelatedField(
        slug_field="public_id",
        queryset=User.objects.filter(kind=UserKind.CITIZEN, is_active=True),
        required=False,
        allow_null=True,
        default=None,
        help_text="The citizen account the bill belongs to (its public id), if any.",
    )


class BillLineInput(serializers.Serializer):
    stream = serializers.SlugField(max_length=40, help_text="A revenue stream code.")
    quantity = AsciiDecimalInput(
        max_digits=12, decimal_places=2, min_value=CENT, default=Decimal(1)
    )
    unit_price = AsciiDecimalInput(
        **MONEY,
        min_value=CENT,
        required=False,
        allow_null=True,
        default=None,
        help_text="Leave out to charge the price-list price.",
    )
    description = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )


class BillCreateInput(serializers.Serializer):
    payer = PayerInput()
    department = serializers.SlugRelatedField(slug_field="code", queryset=list_departments())
    ward = serializers.SlugRelatedField(
        slug_field="code", queryset=list_wards(), required=False, allow_null=True, default=None
    )
    due_on = serializers.DateField()
    description = serializers.CharField(max_length=200)
    lines = serializers.ListField(child=BillLineInput(), allow_empty=False, max_length=50)


# --- Bills: list and detail ---------------------------------------------------------------


class BillListQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=BillStatus.choices, required=False)
    number = serializers.CharField(max_length=20, required=False)
    phone = serializers.CharField(max_length=20, required=False)


class BillSummaryOutput(serializers.ModelSerializer):
    department = serializers.CharField(source="department.code")
    ward = serializers.CharField(source="ward.code", default=None, allow_null=True)
    balance = serializers.DecimalField(**MONEY, read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Bill
        fields = [
            "number",
            "payer_name",
            "department",
            "ward",
            "description",
            "due_on",
            "status",
            "total",
            "paid",
            "balance",
            "created_at",
            "url",
        ]

    def get_url(self, bill: Bill) -> str:
        return _absolute(self.context, reverse("api:bill", args=[bill.number]))


class BillLineOutput(serializers.ModelSerializer):
    stream = serializers.CharField(source="stream.code")

    class Meta:
        model = BillLine
        fields = ["stream", "description", "quantity", "unit_price", "amount"]


class BillPaymentOutput(serializers.Serializer):
    id = serializers.UUIDField(source="payment.public_id")
    channel = serializers.CharField(source="payment.channel")
    amount = serializers.DecimalField(**MONEY, source="payment.amount")
    paid_at = serializers.DateTimeField(source="payment.paid_at")
    reference = serializers.CharField(source="payment.external_ref")
    mpesa_receipt = serializers.CharField(source="payment.mpesa_receipt")
    receipt = serializers.CharField(source="receipt.number", default=None, allow_null=True)
    is_cancelled = serializers.BooleanField()


class AllocationOutput(serializers.ModelSerializer):
    payment = serializers.UUIDField(source="payment.public_id", default=None, allow_null=True)

    class Meta:
        model = Allocation
        fields = ["amount", "from_credit", "payment", "created_at"]


class HistoryOutput(serializers.ModelSerializer):
    at = serializers.DateTimeField(source="occurred_at")

    class Meta:
        model = AuditEvent
        fields = ["at", "action", "data"]


class PayerOutput(serializers.Serializer):
    name = serializers.CharField(source="payer_name")
    phone = serializers.CharField(source="payer_phone")
    id_number = serializers.CharField(source="payer_id_number")
    kra_pin = serializers.CharField(source="payer_kra_pin")


class BillDetailOutput(serializers.ModelSerializer):
    """A bill with its lines, payments, allocations and history (passed in the context)."""

    payer = PayerOutput(source="*")
    department = serializers.CharField(source="department.code")
    ward = serializers.CharField(source="ward.code", default=None, allow_null=True)
    balance = serializers.DecimalField(**MONEY, read_only=True)
    lines = BillLineOutput(many=True)
    payments = serializers.SerializerMethodField()
    allocations = serializers.SerializerMethodField()
    history = serializers.SerializerMethodField()

    class Meta:
        model = Bill
        fields = [
            "number",
            "payer",
            "department",
            "ward",
            "description",
            "due_on",
            "status",
            "total",
            "paid",
            "balance",
            "created_at",
            "lines",
            "payments",
            "allocations",
            "history",
        ]

    @extend_schema_field(BillPaymentOutput(many=True))
    def get_payments(self, bill: Bill) -> Any:
        rows: list[BillPaymentRow] = self.context["payments"]
        return BillPaymentOutput(rows, many=True).data

    @extend_schema_field(AllocationOutput(many=True))
    def get_allocations(self, bill: Bill) -> Any:
        return AllocationOutput(self.context["allocations"], many=True).data

    @extend_schema_field(HistoryOutput(many=True))
    def get_history(self, bill: Bill) -> Any:
        return HistoryOutput(self.context["history"], many=True).data


# --- M-Pesa prompts (STK push) --------------------------------------------------------------


class StkPushInput(serializers.Serializer):
    bill_number = serializers.CharField(max_length=20)
    phone = serializers.CharField(max_length=20, help_text="The phone to prompt, any Kenyan form.")
    amount = AsciiDecimalInput(
        **MONEY,
        min_value=Decimal(1),
        required=False,
        allow_null=True,
        default=None,
        help_text="Leave out to ask for the bill's balance.",
    )


@extend_schema_field({"type": "string", "description": f"One of: {', '.join(StkStatus.values)}."})
class StkStatusField(serializers.CharField):
    """A prompt's status. Described rather than an enum: drf-spectacular names enums after
    the field, and "status" is BillStatus's (an ENUM_NAME_OVERRIDES entry would allow both)."""


class StkRequestOutput(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id")
    status = StkStatusField(read_only=True)
    bill_number = serializers.CharField(source="bill.number")
    status_url = serializers.SerializerMethodField()
    receipt = serializers.SerializerMethodField()

    class Meta:
        model = StkRequest
        fields = [
            "id",
            "status",
            "status_url",
            "bill_number",
            "phone",
            "amount",
            "result_code",
            "result_desc",
            "receipt",
            "created_at",
            "resolved_at",
        ]

    def get_status_url(self, stk: StkRequest) -> str:
        return _absolute(self.context, reverse("api:stk-status", args=[stk.public_id]))

    def get_receipt(self, stk: StkRequest) -> str | None:
        receipt = getattr(stk.payment, "receipt", None) if stk.payment_id else None
        return receipt.number if receipt is not None else None


class StkPushOutput(StkRequestOutput):
    """The prompt asked for (202), or the one an earlier call with the same key asked for."""


class StkStatusOutput(StkRequestOutput):
    """Where a prompt stands: requested, pending, paid, failed or error."""


# --- Receipts -----------------------------------------------------------------------------


class ReceiptPaymentOutput(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id")
    reference = serializers.CharField(source="external_ref")

    class Meta:
        model = Payment
        fields = [
            "id",
            "channel",
            "amount",
            "paid_at",
            "reference",
            "mpesa_receipt",
            "payer_name",
            "is_in_suspense",
        ]


class ReceiptBillOutput(serializers.ModelSerializer):
    balance = serializers.DecimalField(**MONEY, read_only=True)

    class Meta:
        model = Bill
        fields = ["number", "payer_name", "description", "status", "total", "paid", "balance"]


class ReceiptOutput(serializers.ModelSerializer):
    payment = ReceiptPaymentOutput()
    bill = ReceiptBillOutput(source="payment.bill", allow_null=True)
    is_cancelled = serializers.SerializerMethodField()
    verification_url = serializers.SerializerMethodField()

    class Meta:
        model = Receipt
        fields = [
            "number",
            "financial_year",
            "issued_at",
            "verification_code",
            "verification_url",
            "is_cancelled",
            "payment",
            "bill",
        ]

    def get_is_cancelled(self, receipt: Receipt) -> bool:
        return hasattr(receipt, "cancellation")

    def get_verification_url(self, receipt: Receipt) -> str:
        return _absolute(self.context, reverse("verify", args=[receipt.verification_code]))


# --- Revenue report -------------------------------------------------------------------------


class RevenueReportQuery(serializers.Serializer):
    # "from" is a Python keyword: that field is added in `get_fields`.
    to = serializers.DateField()
    group_by = serializers.ChoiceField(choices=GROUPINGS, default="stream")
    stream = serializers.SlugField(max_length=40, required=False, help_text="One stream only.")
    ward = serializers.CharField(
        max_length=10, required=False, help_text=f'One ward only ("{NO_WARD}": bills with none).'
    )
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)

    def get_fields(self) -> dict[str, serializers.Field]:
        return {"from": serializers.DateField(), **super().get_fields()}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"to": ["Must be on or after from."]})
        if (attrs["to"] - attrs["from"]).days >= MAX_REPORT_DAYS:
            raise serializers.ValidationError(
                {"to": [f"Ask for at most {MAX_REPORT_DAYS} days at once."]}
            )
        return attrs


class RevenueRowOutput(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField(source="label")
    amount = serializers.DecimalField(**MONEY)
    count = serializers.IntegerField()
    target = serializers.DecimalField(**MONEY, allow_null=True)
    percent_of_target = serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True)


class RevenueReportOutput(serializers.Serializer):
    to = serializers.DateField(source="filter.end")
    group_by = serializers.CharField()
    rows = RevenueRowOutput(many=True)
    total_amount = serializers.DecimalField(**MONEY)
    total_count = serializers.IntegerField()
    total_target = serializers.DecimalField(**MONEY, allow_null=True)
    percent_of_target = serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        return {"from": serializers.DateField(source="filter.start"), **super().get_fields()}
