"""The accounts API: who am I, and what may I do."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kaunti.accounts import selectors
from kaunti.accounts.models import User
from kaunti.core.api import problems


class RoleOutput(serializers.Serializer):
    department = serializers.CharField(source="department.code")
    role = serializers.CharField()


class MeOutput(serializers.ModelSerializer):
    # Not an email field: it is empty when none is known (citizens sign in by phone).
    email = serializers.CharField(read_only=True)
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "public_id",
            "username",
            "kind",
            "full_name",
            "phone",
            "email",
            "preferred_language",
            "roles",
        ]

    @extend_schema_field(RoleOutput(many=True))
    def get_roles(self, user: User) -> list[dict[str, str]]:
        return RoleOutput(selectors.list_role_assignments(user=user), many=True).data  # type: ignore[return-value]


class MeApi(APIView):
    """The signed-in user (session or token) and the roles they hold."""

    @extend_schema(
        responses={200: MeOutput, **problems(401)}, summary="The signed-in user and their roles"
    )
    def get(self, request: Request) -> Response:
        return Response(MeOutput(request.user).data)
