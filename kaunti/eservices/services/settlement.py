"""What happens when an application's bill is paid: the application moves into review.

`payments` calls `handle_bill_settled` inside the transaction that settles the bill
(registered in `EservicesConfig.ready`), so the payment, the receipt and the move into
review commit together or not at all. A second call for the same bill finds the
application already in review and does nothing.
"""

from django.utils import timezone

from kaunti.core.services.audit import record_event
from kaunti.eservices.models import Application, ApplicationStatus, EventKind
from kaunti.eservices.services.notices import text_applicant_in_review
from kaunti.eservices.services.workflow import start_review
from kaunti.payments.models import Bill


def handle_bill_settled(bill: Bill) -> None:
    """Start the review of the application the bill was raised for, and tell the applicant."""
    application = (
        Application.objects.select_for_update(of=("self",))
        .select_related("service__department", "version", "applicant")
        .filter(reference=bill.source_ref)
        .first()
    )
    if application is None or application.status != ApplicationStatus.SUBMITTED:
        return
    application.paid_at = timezone.now()
    start_review(
        application, actor=None, event_kind=EventKind.PAID, event_data={"bill": bill.number}
    )
    if application.status == ApplicationStatus.IN_REVIEW:
        text_applicant_in_review(application=application)
    record_event(
        actor=None,
        action="eservices.application_paid",
        target=application,
        data={
            "reference": application.reference,
            "bill": bill.number,
            "status": application.status,
        },
    )
