"""Whether an issued document can be renewed now, and which application a citizen would renew."""

from datetime import date, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from kaunti.eservices.definitions.version import year_day
from kaunti.eservices.models import Application, ApplicationStatus, Service, ValidityRule
from kaunti.eservices.selectors.applications.citizen import list_citizen_applications
from kaunti.eservices.validity import valid_until_for


def get_renewable_application(*, user: Any, service: Service) -> Application | None:
    """`user`'s latest issued application of `service`, to renew (None if there is none,
    the service cannot be renewed, or renewing it now would add nothing)."""
    if service.current_version is None or not service.current_version.is_renewable:
        return None
    latest = (
        list_citizen_applications(user=user)
        .filter(service=service, status=ApplicationStatus.ISSUED)
        .order_by("-issued_at")
        .first()
    )
    if latest is None or why_not_renewable(application=latest):
        return None
    return latest


def why_not_renewable(*, application: Application, on_date: date | None = None) -> str:
    """Why `application`'s issued document cannot be renewed on `on_date` (in the active
    language), or "" when it can: the service must still be renewable, the document
    issued and not revoked, not renewed already, and a renewal must cover a later period
    than the document does (a calendar-year permit renews from its rollover day, e.g.
    1 December, for the next year)."""
    on_date = on_date or timezone.localdate()
    version = application.service.current_version
    document = application.issued_document
    if (
        version is None
        or not version.is_renewable
        or not application.service.is_active
        or application.status != ApplicationStatus.ISSUED
        or document is None
        or document.revoked_at is not None
    ):
        return _("This document cannot be renewed; apply afresh.")
    renewed = (
        application.renewals.exclude(
            status__in=(ApplicationStatus.DRAFT, ApplicationStatus.REJECTED)
        )
        .order_by("-created_at")
        .first()
    )
    if renewed is not None:
        return _("%(number)s is already renewed (application %(reference)s).") % {
            "number": document.number,
            "reference": renewed.reference,
        }
    if document.valid_until is not None:
        renewal_until = valid_until_for(
            rule=version.validity_rule,
            months=version.validity_months,
            issued_on=on_date,
            next_year_from=version.next_year_from,
        )
        if renewal_until is not None and renewal_until <= document.valid_until:
            rollover = year_day(version.next_year_from)
            if version.validity_rule == ValidityRule.TO_31_DECEMBER and rollover is not None:
                opens = date(document.valid_until.year, *rollover)
            else:
                opens = document.valid_until + timedelta(days=1)
            return _(
                "%(number)s is valid until %(until)s already; you can renew it from %(opens)s."
            ) % {
                "number": document.number,
                "until": document.valid_until.strftime("%d/%m/%Y"),
                "opens": opens.strftime("%d/%m/%Y"),
            }
    return ""
