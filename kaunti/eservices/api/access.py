"""Which application, or step of one, an API caller may reach: a citizen their own (anyone
else's is a 404), staff their departments' (another department's is a 403)."""

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.request import Request

from kaunti.accounts.api_permissions import is_verified_api_caller
from kaunti.core.api_support import is_citizen
from kaunti.eservices.models import Application, ApplicationStep
from kaunti.eservices.selectors import applications as application_selectors

VIEW_APPLICATIONS = "eservices.view_applications"
STEP_ACTIONS = ("eservices.process_application", "eservices.inspect", "eservices.approve")


def own_application(request: Request, reference: str) -> Application:
    """The citizen caller's own application (anyone else's is a 404, as on the pages)."""
    application = application_selectors.get_citizen_application(
        user=request.user, reference=reference, with_page_details=False
    )
    if application is None:
        raise exceptions.NotFound(_("There is no application with this reference."))
    return application


def application_to_view(request: Request, reference: str) -> Application:
    """The caller's own (citizen) or one of their departments' (staff: 403 otherwise)."""
    if is_citizen(request):
        return own_application(request, reference)
    if not is_verified_api_caller(request):
        raise exceptions.PermissionDenied()
    application = application_selectors.access_application_for_staff(
        user=request.user, reference=reference
    )
    if application is None:
        raise exceptions.NotFound(_("There is no application with this reference."))
    return application


def step_to_act_on(request: Request, reference: str, code: str) -> ApplicationStep:
    """The step `code` of an application the caller may view (as `application_to_view`),
    read with one permission check; the services check the right to act on it."""
    if is_citizen(request):
        application = own_application(request, reference)
        step = application_selectors.get_step_for_staff(
            user=request.user, application=application, code=code
        )
    else:
        if not is_verified_api_caller(request):
            raise exceptions.PermissionDenied()
        found = application_selectors.access_step_for_staff(
            user=request.user, reference=reference, code=code
        )
        if found is None:
            raise exceptions.NotFound(_("There is no application with this reference."))
        _application, step = found
    if step is None:
        raise exceptions.NotFound(_("There is no such step."))
    return step
