"""What is left to do on an application, and by when it is expected: for the applicant.

A step's SLA runs in calendar hours from the moment it opens (`services.workflow`:
`due_at = opened_at + sla_hours`), so an expected date is worked out the same way: an
open step is expected by its due time, and a waiting one by the latest expected end of
the steps it waits for (or now, if that is already past) plus its own SLA hours.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from kaunti.eservices.models import Application, ApplicationStatus, ApplicationStep, StepStatus


@dataclass(frozen=True)
class StepProgress:
    """One step as the applicant sees it: done (and when), or when it is expected."""

    code: str
    name: str
    status: str  # a StepStatus value
    done_at: datetime | None
    expected_by: datetime | None

    @property
    def is_done(self) -> bool:
        return self.status == StepStatus.DONE

    @property
    def is_open(self) -> bool:
        return self.status == StepStatus.OPEN


@dataclass(frozen=True)
class ApplicationProgress:
    """The steps in order and when the decision is expected (None: nothing is pending)."""

    steps: tuple[StepProgress, ...]
    decision_expected_by: datetime | None

    @property
    def remaining(self) -> tuple[StepProgress, ...]:
        return tuple(step for step in self.steps if not step.is_done)


def project_steps(
    steps: Sequence[ApplicationStep], *, language: str, now: datetime | None = None
) -> ApplicationProgress:
    """Expected dates of `steps` (ordered by position; a step only waits for earlier ones)."""
    now = now or timezone.now()
    ends: dict[str, datetime] = {}
    rows = []
    for step in steps:
        if step.status == StepStatus.CLOSED:
            continue
        expected: datetime | None = None
        if step.status == StepStatus.DONE:
            ends[step.code] = step.completed_at or now
        elif step.status == StepStatus.OPEN and step.due_at is not None:
            expected = step.due_at
            ends[step.code] = max(step.due_at, now)
        else:
            start = max([now, *(ends[code] for code in step.after if code in ends)])
            expected = start + timedelta(hours=step.sla_hours)
            ends[step.code] = expected
        rows.append(
            StepProgress(
                code=step.code,
                name=step.name(language),
                status=step.status,
                done_at=step.completed_at if step.status == StepStatus.DONE else None,
                expected_by=expected,
            )
        )
    pending = [row.expected_by for row in rows if not row.is_done and row.expected_by]
    return ApplicationProgress(tuple(rows), max(pending) if pending else None)


def get_application_progress(
    *, application: Application, language: str, now: datetime | None = None
) -> ApplicationProgress | None:
    """The progress of an application in review (None before review, while it is back
    with the applicant, whose changes stop the clock, and once it is decided)."""
    if application.status != ApplicationStatus.IN_REVIEW:
        return None
    return project_steps(list(application.steps.order_by("position")), language=language, now=now)
