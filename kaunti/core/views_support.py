"""Helpers every app's pages share: who is signed in, a service's refusal as a list of
messages, and a PDF answered inline. Forms put a refusal on their fields with
kaunti.core.forms.apply_service_errors."""

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse

if TYPE_CHECKING:
    # The project's user model, as django-stubs resolves it (core cannot import accounts).
    from django.contrib.auth.models import _User


def signed_in_user(request: HttpRequest) -> "_User":
    """The person behind a request that `login_required`/`staff_required` let through."""
    user = request.user
    if not isinstance(user, get_user_model()):
        raise PermissionDenied("sign in first")
    return user


def error_messages(error: ValidationError) -> list[str]:
    """Every message of a service's refusal, field by field, for a page's error summary."""
    if hasattr(error, "error_dict"):
        return [message for found in error.message_dict.values() for message in found]
    return list(error.messages)


def pdf_response(pdf: bytes, *, filename: str) -> HttpResponse:
    """A PDF shown in the browser; receipts and permits carry personal data, so never cached."""
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
