"""The ledger HTTP API: the trial balance, for staff who may read the books (`ledger.view`)."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kaunti.accounts.api_permissions import HasAction
from kaunti.core.api import problems
from kaunti.ledger.selectors import get_trial_balance

MONEY: dict[str, Any] = {"max_digits": 16, "decimal_places": 2}


class TrialBalanceQuery(serializers.Serializer):
    as_of = serializers.DateField(
        required=False, help_text="Entries posted up to and including this day (default: all)."
    )


class TrialBalanceRowOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    type = serializers.CharField()
    debit = serializers.DecimalField(**MONEY)
    credit = serializers.DecimalField(**MONEY)
    balance = serializers.DecimalField(
        **MONEY, help_text="Debits less credits: a credit balance is negative."
    )


class TrialBalanceOutput(serializers.Serializer):
    as_of = serializers.DateField(allow_null=True)
    rows = TrialBalanceRowOutput(many=True)
    total_debit = serializers.DecimalField(**MONEY)
    total_credit = serializers.DecimalField(**MONEY)
    is_balanced = serializers.BooleanField()


class TrialBalanceApi(APIView):
    permission_classes = [HasAction("ledger.view")]

    @extend_schema(
        operation_id="get_trial_balance",
        summary="The trial balance: debits and credits per account",
        parameters=[TrialBalanceQuery],
        responses={200: TrialBalanceOutput, **problems(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        query = TrialBalanceQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        as_of = query.validated_data.get("as_of")
        trial_balance = get_trial_balance(as_of=as_of)
        return Response(
            TrialBalanceOutput(
                {
                    "as_of": as_of,
                    "rows": trial_balance.rows,
                    "total_debit": trial_balance.total_debit,
                    "total_credit": trial_balance.total_credit,
                    "is_balanced": trial_balance.is_balanced,
                }
            ).data
        )
