"""Where every change a citizen makes to their application starts: the row locked, and
the actor its applicant."""

from django.core.exceptions import PermissionDenied

from kaunti.accounts.models import User
from kaunti.eservices.models import Application


def require_applicant(application: Application, actor: User) -> None:
    if not (actor.is_authenticated and actor.is_active and application.applicant_id == actor.pk):
        raise PermissionDenied("not the applicant")


def lock_application(application: Application) -> Application:
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related("service__department", "version", "applicant", "ward")
        .get(pk=application.pk)
    )
