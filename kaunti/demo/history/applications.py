"""Applications of the demo history, through the e-services services: a resident drafts,
uploads the documents, submits (the bill is raised), pays, and county staff act on each
step; some applications are returned, resubmitted or rejected, and the recent ones are
still waiting, as they would be on any day."""

import io
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from kaunti.accounts.models import User
from kaunti.core.models import Ward
from kaunti.demo.history.money import MARKETS, PAYBILL, STK, Money, local
from kaunti.demo.history.people import Citizens, Staff, business_name, kra_pin, national_id
from kaunti.demo.history.timeline import Timeline, draw
from kaunti.eservices.definitions.documents import PDF, parse_documents
from kaunti.eservices.definitions.form import FieldSpec, FieldType, parse_form
from kaunti.eservices.definitions.workflow import StepKind
from kaunti.eservices.models import Application, ApplicationStatus, ApplicationStep, Service
from kaunti.eservices.models.applications import StepStatus
from kaunti.eservices.services.applications.documents import attach_document
from kaunti.eservices.services.applications.drafts import create_draft, update_draft
from kaunti.eservices.services.applications.submission import (
    resubmit_application,
    submit_application,
)
from kaunti.eservices.services.workflow.actions import (
    approve_step,
    reject_application,
    return_for_changes,
)
from kaunti.eservices.services.workflow.inspections import record_inspection_result

# Services by how often residents apply (codes not in the catalogue are skipped).
SERVICE_WEIGHTS = {
    "unified-business-permit": 45,
    "food-handler-certificate": 20,
    "livestock-movement-permit": 14,
    "building-plan-approval": 8,
    "liquor-licence": 6,
    "change-of-land-use": 5,
}
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TEXT_ANSWERS = {
    "premises_location": "{town} town, next to the bus park",
    "destination": "Nakuru livestock market",
    "project_title": "Residential house, {town}",
    "justification": "The area around {town} is now mostly shops and homes.",
    "architect_name": "Wambugu Ndirangu",
    "architect_registration": "A{n}",
    "engineer_name": "Kibe Mathenge",
    "engineer_registration": "E{n}",
    "plot_number": "NYANDARUA/{upper}/{n}",
    "parcel_number": "NYANDARUA/{upper}/{n}",
    "vehicle_registration": "KCY {n}A",
}


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (60, 110, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass
class Applications:
    rng: random.Random
    timeline: Timeline
    citizens: Citizens
    staff: Staff
    money: Money
    _services: list[Service] = field(default_factory=list)
    _ids: list[int] = field(default_factory=list)
    _acting: set[int] = field(default_factory=set)
    _png: bytes = b""

    def __post_init__(self) -> None:
        by_code = {
            s.code: s for s in Service.objects.filter(code__in=SERVICE_WEIGHTS, is_active=True)
        }
        self._services = [by_code[code] for code in SERVICE_WEIGHTS if code in by_code]
        self._png = _png()

    def statuses(self) -> list[str]:
        return list(Application.objects.filter(pk__in=self._ids).values_list("status", flat=True))

    def plan_day(self, day: date, bills: int) -> None:
        if not self._services or day.weekday() == 6:
            return
        # At least one every other working day, so even a small history shows each state.
        for _n in range(draw(self.rng, max(0.5, bills / 14))):
            service = self.rng.choices(
                self._services, [SERVICE_WEIGHTS[s.code] for s in self._services]
            )[0]
            minute = self.rng.randrange(7 * 60, 22 * 60)
            self.timeline.at(
                local(day, minute // 60, minute % 60),
                partial(self._apply, service),
            )

    # --- The resident ---------------------------------------------------------------------

    def _answer(self, spec: FieldSpec, applicant: User, town: str, ward: str) -> str:
        n = self.rng.randrange(100, 9999)
        if spec.type == FieldType.CHOICE:
            if spec.name == "application_type":
                return spec.choices[0].value
            return self.rng.choice(spec.choices).value
        if spec.type == FieldType.WARD:
            return ward
        if spec.type == FieldType.PHONE:
            return applicant.phone or ""
        if spec.type == FieldType.NATIONAL_ID:
            return national_id(self.rng)
        if spec.type == FieldType.KRA_PIN:
            return kra_pin(self.rng)
        if spec.type == FieldType.DATE:
            today = timezone.localdate()
            if spec.max_date == "today":
                return date(self.rng.randint(1965, 2004), self.rng.randint(1, 12), 15).isoformat()
            return (today + timedelta(days=self.rng.randint(1, 10))).isoformat()
        if spec.type == FieldType.NUMBER:
            low = int(spec.minimum or 1) or 1
            high = min(
                int(spec.maximum or 50), {"floor_area": 400, "storeys": 3}.get(spec.name, 30)
            )
            return str(self.rng.randint(low, max(low, high)))
        if spec.type == FieldType.TEXT:
            if spec.name in ("business_name", "employer_name"):
                return business_name(self.rng, town).split(",")[0]
            if spec.name in ("full_name", "owner_name"):
                return applicant.full_name
            template = TEXT_ANSWERS.get(spec.name, "{town}")
            return template.format(town=town, upper=town.upper(), n=n)
        return ""

    def _apply(self, service: Service) -> None:
        applicant = self.citizens.any(fresh=0.5)
        town, ward = self.rng.choice(MARKETS)
        if not Ward.objects.filter(code=ward).exists():
            return
        application = create_draft(applicant=applicant, service=service)
        self._ids.append(application.pk)
        version = application.version
        answers = {
            spec.name: self._answer(spec, applicant, town, ward)
            for spec in parse_form(version.form)
            if spec.type != FieldType.FILE
        }
        update_draft(application=application, actor=applicant, answers=answers)
        for spec in parse_documents(version.documents):
            is_pdf = PDF in spec.content_types
            upload = SimpleUploadedFile(
                f"{spec.kind}.{'pdf' if is_pdf else 'png'}",
                PDF_BYTES if is_pdf else self._png,
                content_type="application/pdf" if is_pdf else "image/png",
            )
            attach_document(application=application, actor=applicant, kind=spec.kind, upload=upload)
        if self.rng.random() < 0.07:
            return  # still a draft: the resident has not come back to it
        later = timezone.now() + timedelta(minutes=self.rng.randint(5, 90))
        self.timeline.at(later, lambda: self._submit(application, applicant))

    def _submit(self, application: Application, applicant: User) -> None:
        try:
            submitted = submit_application(application=application, actor=applicant)
        except ValidationError:
            return  # a check the history cannot meet (e.g. a parcel's rates): left a draft
        bill = submitted.bill
        if bill is None or self.rng.random() < 0.07:
            return  # submitted, not paid yet
        channel = STK if self.rng.random() < 0.6 else PAYBILL
        delay = timedelta(
            minutes=self.rng.randint(1, 5) if channel == STK else self.rng.randint(10, 2880)
        )
        when = timezone.now() + delay
        self.money.on_paid[bill.number] = lambda: self._paid(application)
        self.money.pay_in_parts(bill, channel, when, bill.total)

    def _paid(self, application: Application) -> bool:
        application.refresh_from_db(fields=["status"])
        if application.status != ApplicationStatus.IN_REVIEW:
            return False  # paid in part so far
        self._schedule_steps(application)
        return True

    def _resubmit(self, application: Application) -> None:
        # Dates that had to be in the future (a movement date) are moved on as well.
        moved = {
            spec.name: (timezone.localdate() + timedelta(days=self.rng.randint(1, 10))).isoformat()
            for spec in parse_form(application.version.form)
            if spec.type == FieldType.DATE and spec.min_date == "today"
        }
        if moved:
            update_draft(application=application, actor=application.applicant, answers=moved)
        resubmit_application(
            application=application, actor=application.applicant, note="Done as asked."
        )
        self._schedule_steps(application)

    # --- The county -----------------------------------------------------------------------

    def _schedule_steps(self, application: Application) -> None:
        """Each open step is acted on within a few working days of opening."""
        for step in ApplicationStep.objects.filter(application=application, status=StepStatus.OPEN):
            if step.pk in self._acting:
                continue
            self._acting.add(step.pk)
            when = timezone.now() + timedelta(hours=self.rng.randint(2, 96))
            self.timeline.at(when, partial(self._act, step))

    def _act(self, step: ApplicationStep) -> None:
        self._acting.discard(step.pk)
        step.refresh_from_db()
        application = Application.objects.get(pk=step.application_id)
        if application.status != ApplicationStatus.IN_REVIEW or step.status != StepStatus.OPEN:
            return
        actor = self.staff.holding(step.role, step.department)
        roll = self.rng.random()
        if step.kind == StepKind.INSPECTION:
            passed = roll > 0.08
            record_inspection_result(
                step=step,
                actor=actor,
                passed=passed,
                notes="All in order." if passed else "No fire extinguisher on the premises.",
            )
            if not passed and self.rng.random() < 0.75:
                self.timeline.at(
                    timezone.now() + timedelta(days=self.rng.randint(1, 6)),
                    lambda: self._resubmit(application),
                )
        elif roll < 0.05:
            reject_application(
                step=step, actor=actor, reason="The premises are not zoned for this business."
            )
        elif roll < 0.11 and step.kind == StepKind.REVIEW:
            return_for_changes(
                step=step, actor=actor, note="The KRA certificate is not legible; upload it again."
            )
            if self.rng.random() < 0.75:
                self.timeline.at(
                    timezone.now() + timedelta(days=self.rng.randint(1, 6)),
                    lambda: self._resubmit(application),
                )
        else:
            approve_step(step=step, actor=actor, note="")
        self._schedule_steps(application)
