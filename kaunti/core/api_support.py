"""Helpers every app's API views share: validate a request body, turn a service's refusal
into the API's 400 problem, and tell who is calling. The problem-details handler itself
and `problems(...)` for the schema are in kaunti.core.api."""

from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, serializers
from rest_framework.request import Request

if TYPE_CHECKING:
    # The project's user model, as django-stubs resolves it (core cannot import accounts).
    from django.contrib.auth.models import _User


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    """The request body through `serializer_class`; a 400 problem when it is invalid."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def service_refusal(exc: DjangoValidationError) -> exceptions.ValidationError:
    """A service's refusal, as the 400 problem the handler writes for invalid fields."""
    return exceptions.ValidationError(serializers.as_serializer_error(exc))


def is_citizen(request: Request) -> bool:
    """Whether the caller signed in as a citizen (staff and anonymous callers are not)."""
    return bool(getattr(request.user, "is_citizen", False))


def api_user(request: Request) -> "_User":
    """The signed-in caller, for views whose permission classes let no one else in."""
    user = request.user
    assert isinstance(user, get_user_model())  # the permission classes let no one else in
    return user
