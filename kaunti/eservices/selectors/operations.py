"""What /metrics reports of e-services' work: complaints and application steps past their
SLA, by the same rules as the escalation task and the supervisors' overdue list."""

from django.utils import timezone

from kaunti.core.metrics.figures import Figure
from kaunti.eservices.models.applications import ApplicationStatus, ApplicationStep, StepStatus
from kaunti.eservices.models.complaints import UNRESOLVED_STATUSES, Complaint


def sla_figures() -> list[Figure]:
    now = timezone.now()
    complaints = Complaint.objects.filter(status__in=UNRESOLVED_STATUSES, due_at__lt=now)
    steps = ApplicationStep.objects.filter(
        status=StepStatus.OPEN,
        due_at__lt=now,
        application__status=ApplicationStatus.IN_REVIEW,
    ).count()
    return [
        Figure(
            "kaunti_eservices_complaints_overdue",
            "Unresolved complaints past their SLA, by whether they have been escalated.",
            [
                ({"escalated": "no"}, complaints.filter(escalated_at__isnull=True).count()),
                ({"escalated": "yes"}, complaints.filter(escalated_at__isnull=False).count()),
            ],
            labels=("escalated",),
        ),
        Figure.single(
            "kaunti_eservices_application_steps_overdue",
            "Open steps of applications in review that are past their SLA.",
            steps,
        ),
    ]
