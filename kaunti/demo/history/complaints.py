"""Complaints and suggestions of the demo history, through the complaints services: filed by
residents, assigned and handled by the owning department, resolved, rated and now and
then reopened; those past their SLA are escalated by the daily job."""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils import timezone

from kaunti.accounts.models import Role, User
from kaunti.core.models import Ward
from kaunti.demo.history.money import MARKETS
from kaunti.demo.history.people import Citizens, Staff
from kaunti.demo.history.timeline import Timeline, draw
from kaunti.eservices.models import Complaint
from kaunti.eservices.models.complaints import ComplaintCategory
from kaunti.eservices.services.complaints.escalation import escalate_overdue_complaints
from kaunti.eservices.services.complaints.filing import file_complaint
from kaunti.eservices.services.complaints.handling import (
    assign_complaint,
    rate_complaint_resolution,
    reopen_complaint,
    resolve_complaint,
    start_handling_complaint,
)

DESCRIPTIONS = {
    "roads": "The road from {town} to the main highway has deep potholes after the rains.",
    "water": "No water in the taps in {town} for three days.",
    "waste": "Garbage has not been collected behind {town} market for two weeks.",
}
DEFAULT_DESCRIPTION = "Please look into this problem in {town}; it has gone on for some weeks."
RESOLUTIONS = (
    "A team visited and fixed it.",
    "Repaired by the ward works team.",
    "Collected and the site cleaned.",
)


@dataclass
class Complaints:
    rng: random.Random
    timeline: Timeline
    citizens: Citizens
    staff: Staff
    _ids: list[int] = field(default_factory=list)
    _categories: list[ComplaintCategory] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._categories = list(
            ComplaintCategory.objects.filter(is_active=True)
            .select_related("department")
            .order_by("pk")
        )

    def statuses(self) -> list[str]:
        return list(Complaint.objects.filter(pk__in=self._ids).values_list("status", flat=True))

    def plan_day(self, day: date, bills: int) -> None:
        self.timeline.at(_at(day, 6), self._escalate)
        if not self._categories:
            return
        for _n in range(draw(self.rng, max(0.5, bills / 20))):
            minute = self.rng.randrange(6 * 60, 22 * 60)
            self.timeline.at(_at(day, minute // 60, minute % 60), self._file)

    def _escalate(self) -> None:
        escalate_overdue_complaints(now=timezone.now())

    def _file(self) -> None:
        category = self.rng.choice(self._categories)
        town, ward_code = self.rng.choice(MARKETS)
        ward = Ward.objects.filter(code=ward_code).first()
        if ward is None:
            return
        resident = self.citizens.any()
        complaint = file_complaint(
            complainant=resident,
            category=category,
            ward=ward,
            description=DESCRIPTIONS.get(category.code, DEFAULT_DESCRIPTION).format(town=town),
            location_text=f"{town}",
        )
        self._ids.append(complaint.pk)
        sla = timedelta(hours=category.sla_hours)
        # Most are picked up within a day or so; some wait in the queue for days.
        wait = self.rng.randint(1, 30) if self.rng.random() < 0.75 else self.rng.randint(48, 288)
        self.timeline.at(
            timezone.now() + timedelta(hours=wait), lambda: self._start(complaint, sla)
        )

    def _start(self, complaint: Complaint, sla: timedelta) -> None:
        department = complaint.department
        handler = self.staff.holding(Role.INSPECTOR, department)
        if self.rng.random() < 0.5:
            supervisor = self.staff.holding(Role.SUPERVISOR, department)
            assign_complaint(complaint=complaint, actor=supervisor, assignee=handler)
        start_handling_complaint(complaint=complaint, actor=handler)
        # Most are resolved within their SLA, some late (escalated first).
        hours = (
            self.rng.uniform(0.2, 0.9 if self.rng.random() < 0.8 else 2.5)
            * sla.total_seconds()
            / 3600
        )
        self.timeline.at(
            timezone.now() + timedelta(hours=hours), lambda: self._resolve(complaint, handler)
        )

    def _resolve(self, complaint: Complaint, handler: User) -> None:
        resolved = resolve_complaint(
            complaint=complaint, actor=handler, resolution=self.rng.choice(RESOLUTIONS)
        )
        roll = self.rng.random()
        later = timezone.now() + timedelta(hours=self.rng.randint(2, 72))
        if roll < 0.55:
            self.timeline.at(
                later,
                lambda: rate_complaint_resolution(
                    complaint=resolved,
                    actor=resolved.complainant,
                    rating=self.rng.choice((3, 4, 4, 5, 5)),
                ),
            )
        elif roll < 0.65:
            self.timeline.at(
                later,
                lambda: reopen_complaint(
                    complaint=resolved,
                    actor=resolved.complainant,
                    reason="It is back again after a week.",
                ),
            )


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, minute))
