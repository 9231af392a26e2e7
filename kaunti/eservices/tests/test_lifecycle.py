"""An application's whole life through the services: draft to issued permit, and its detours."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from kaunti.accounts.models import User
from kaunti.core.models import AuditEvent, Department, IssuedDocument, OutboxMessage
from kaunti.core.services.documents import verify
from kaunti.eservices.fees.breakdown import FeeBreakdown
from kaunti.eservices.models import (
    Application,
    ApplicationStatus,
    ApplicationStep,
    Service,
    StepStatus,
)
from kaunti.eservices.selectors.applications.citizen import list_application_timeline
from kaunti.eservices.selectors.applications.fees import preview_fees
from kaunti.eservices.selectors.applications.files import render_issued_document
from kaunti.eservices.selectors.applications.work_queue import list_work_queue
from kaunti.eservices.services.applications.documents import attach_document
from kaunti.eservices.services.applications.drafts import create_draft, update_draft
from kaunti.eservices.services.applications.submission import (
    resubmit_application,
    submit_application,
)
from kaunti.eservices.services.catalogue import create_draft_version, publish_service_version
from kaunti.eservices.services.issuing import issue_document
from kaunti.eservices.services.settlement import handle_bill_settled
from kaunti.eservices.services.workflow.actions import (
    approve_step,
    reassign_step,
    reject_application,
    return_for_changes,
)
from kaunti.eservices.services.workflow.inspections import record_inspection_result
from kaunti.eservices.tests.conftest import UBP_ANSWERS, pdf, png, step
from kaunti.eservices.tests.factories import DraftFactory
from kaunti.payments.models import Bill, BillStatus
from kaunti.payments.services.bills import LineInput, Payer
from kaunti.payments.tests.factories import BillFactory, PaymentFactory

pytestmark = pytest.mark.django_db


def snapshot(application: Application) -> tuple[object, ...]:
    """What a refused action must leave untouched."""
    application.refresh_from_db()
    return (
        application.status,
        application.answers,
        application.fee_total,
        application.bill_id,
        list(application.steps.values_list("code", "status", "outcome", "assigned_to_id")),
        application.events.count(),
        AuditEvent.objects.count(),
        OutboxMessage.objects.count(),
        Bill.objects.count(),
        IssuedDocument.objects.count(),
    )


def sms_templates() -> list[str]:
    return list(OutboxMessage.objects.order_by("id").values_list("template", flat=True))


def test_the_business_permit_goes_from_draft_to_a_verified_permit(
    draft_ubp: Application, citizen: User, people: dict[str, User]
) -> None:
    # The applicant sees the fee line by line before submitting.
    preview = preview_fees(user=citizen, application=draft_ubp, on_date=date(2026, 2, 2))
    assert [(line.stream_code, line.description_en, line.amount) for line in preview.lines] == [
        ("business-permit", "Unified business permit: Salon, barber or tailor", Decimal("10000.00"))
    ]

    submitted = submit_application(application=draft_ubp, actor=citizen, on_date=date(2026, 2, 2))
    assert submitted.status == ApplicationStatus.SUBMITTED
    bill = submitted.bill
    assert bill is not None
    assert (bill.source_type, bill.source_ref, bill.total) == (
        "eservices.application",
        submitted.reference,
        Decimal("10000.00"),
    )
    assert list(bill.lines.values_list("stream__code", "description", "amount")) == [
        ("business-permit", "Unified business permit: Salon, barber or tailor", Decimal("10000.00"))
    ]
    assert (bill.payer_name, bill.payer_phone, bill.payer_id_number, bill.payer_kra_pin) == (
        "Wanjiku Kamau",
        "254712000111",
        "22334455",
        "A012345678B",
    )
    assert bill.ward is not None
    assert bill.ward.code == "0453"
    assert submitted.fees == preview.as_json()
    assert sms_templates()[-1] == "eservices_application_submitted"
    assert bill.number in OutboxMessage.objects.latest("id").body

    # Payment through the money path's one entry point settles the bill: review starts.
    PaymentFactory.create(bill=bill)
    submitted.refresh_from_db()
    bill.refresh_from_db()
    assert bill.status == BillStatus.PAID
    assert submitted.status == ApplicationStatus.IN_REVIEW
    assert sms_templates()[-2:] == ["eservices_application_in_review", "payment_received"]
    assert [(s.code, s.status) for s in submitted.steps.all()] == [
        ("review", StepStatus.OPEN),
        ("inspection-health", StepStatus.WAITING),
        ("inspection-fire", StepStatus.WAITING),
        ("approval", StepStatus.WAITING),
    ]
    review = step(submitted, "review")
    assert review.due_at is not None
    assert review.opened_at is not None
    assert review.due_at - review.opened_at == timedelta(hours=48)

    approve_step(step=review, actor=people["trade_approver"])
    assert [(s.code, s.status) for s in submitted.steps.all()][1:] == [
        ("inspection-health", StepStatus.OPEN),
        ("inspection-fire", StepStatus.OPEN),
        ("approval", StepStatus.WAITING),
    ]

    # Approval is refused while an inspection is missing, and nothing changes.
    record_inspection_result(
        step=step(submitted, "inspection-health"),
        actor=people["health_inspector"],
        passed=True,
        notes="Clean premises, running water.",
        photos=[png("sink.png")],
    )
    before = snapshot(submitted)
    with pytest.raises(ValidationError, match="waiting for Fire safety inspection"):
        approve_step(step=step(submitted, "approval"), actor=people["second_trade_approver"])
    assert snapshot(submitted) == before

    record_inspection_result(
        step=step(submitted, "inspection-fire"),
        actor=people["fire_inspector"],
        passed=True,
        notes="Extinguisher in date.",
    )
    issued = approve_step(step=step(submitted, "approval"), actor=people["second_trade_approver"])

    assert issued.status == ApplicationStatus.ISSUED
    document = issued.issued_document
    assert document is not None
    # Issued from 1 December, a business permit covers (and is numbered for) next year.
    today = timezone.localdate()
    year = today.year + 1 if today.month == 12 else today.year
    assert document.number == f"UBP/{year}/{issued.reference[4:]}"
    assert document.holder_name == "Mama Njeri Salon"
    assert document.valid_until == date(year, 12, 31)
    result = verify(code=document.verification_code)
    assert (result.state, result.document) == ("valid", document)
    assert sms_templates()[-1] == "eservices_application_issued"

    rendered = render_issued_document(user=citizen, reference=issued.reference, language="en")
    assert rendered is not None
    assert rendered.content.startswith(b"%PDF-")
    assert rendered.filename == f"UBP-{year}-{issued.reference[4:]}.pdf"

    timeline = [e.kind for e in list_application_timeline(application=issued, for_applicant=True)]
    assert timeline == [
        "created",
        "document",
        "document",
        "submitted",
        "paid",
        "step_approved",
        "inspection",
        "inspection",
        "step_approved",
        "approved",
        "issued",
    ]


def test_a_bundled_permit_cannot_be_approved_before_both_inspections(
    in_review_ubp: Application, people: dict[str, User]
) -> None:
    approve_step(step=step(in_review_ubp, "review"), actor=people["trade_approver"])
    before = snapshot(in_review_ubp)
    with pytest.raises(ValidationError, match="Public health inspection, Fire safety inspection"):
        approve_step(step=step(in_review_ubp, "approval"), actor=people["second_trade_approver"])
    assert snapshot(in_review_ubp) == before


def test_whoever_inspected_may_not_approve_the_same_application(
    in_review_ubp: Application, people: dict[str, User], make_staff
) -> None:
    # A trade officer who is both inspector and approver; the fire step is in trade here.
    all_rounder = people["trade_all_rounder"]
    health_and_trade = make_staff(["inspector"], department="health")
    approve_step(step=step(in_review_ubp, "review"), actor=people["trade_approver"])
    record_inspection_result(
        step=step(in_review_ubp, "inspection-health"), actor=health_and_trade, passed=True, notes=""
    )
    fire = step(in_review_ubp, "inspection-fire")
    ApplicationStep.objects.filter(pk=fire.pk).update(department=all_rounder.department)
    record_inspection_result(step=fire, actor=all_rounder, passed=True, notes="ok")

    before = snapshot(in_review_ubp)
    with pytest.raises(ValidationError, match="separation of duties"):
        approve_step(step=step(in_review_ubp, "approval"), actor=all_rounder)
    assert snapshot(in_review_ubp) == before

    approve_step(step=step(in_review_ubp, "approval"), actor=people["trade_approver"])
    in_review_ubp.refresh_from_db()
    assert in_review_ubp.status == ApplicationStatus.ISSUED


def test_whoever_failed_an_inspection_may_not_approve_the_application_either(
    in_review_ubp: Application, people: dict[str, User], citizen: User
) -> None:
    # A failed inspection leaves its step open (no one completed it): the rule must still
    # see who inspected, from the timeline.
    all_rounder = people["trade_all_rounder"]
    approve_step(step=step(in_review_ubp, "review"), actor=people["trade_approver"])
    fire = step(in_review_ubp, "inspection-fire")
    public_service = fire.department
    ApplicationStep.objects.filter(pk=fire.pk).update(department=all_rounder.department)
    record_inspection_result(step=fire, actor=all_rounder, passed=False, notes="No extinguisher")
    resubmit_application(application=in_review_ubp, actor=citizen, note="Bought one")
    ApplicationStep.objects.filter(pk=fire.pk).update(department=public_service)
    record_inspection_result(
        step=step(in_review_ubp, "inspection-fire"),
        actor=people["fire_inspector"],
        passed=True,
        notes="",
    )
    record_inspection_result(
        step=step(in_review_ubp, "inspection-health"),
        actor=people["health_inspector"],
        passed=True,
        notes="",
    )

    before = snapshot(in_review_ubp)
    with pytest.raises(ValidationError, match="separation of duties"):
        approve_step(step=step(in_review_ubp, "approval"), actor=all_rounder)
    assert snapshot(in_review_ubp) == before

    approve_step(step=step(in_review_ubp, "approval"), actor=people["second_trade_approver"])
    in_review_ubp.refresh_from_db()
    assert in_review_ubp.status == ApplicationStatus.ISSUED


def test_separation_of_duties_can_be_switched_off_per_service(
    ubp: Service, citizen: User, people: dict[str, User]
) -> None:
    version = create_draft_version(
        service=ubp, actor=None, changes={"separation_of_duties": False}, change_note="pilot"
    )
    publish_service_version(version=version, actor=None)
    ubp.refresh_from_db()
    application = DraftFactory.create(
        applicant=citizen,
        service=ubp,
        answers=UBP_ANSWERS,
        documents={"id_copy": pdf(), "kra_certificate": pdf()},
    )
    submitted = submit_application(application=application, actor=citizen)
    assert submitted.bill is not None
    PaymentFactory.create(bill=submitted.bill)

    all_rounder = people["trade_all_rounder"]
    approve_step(step=step(submitted, "review"), actor=people["trade_approver"])
    for code in ("inspection-health", "inspection-fire"):
        ApplicationStep.objects.filter(application=submitted, code=code).update(
            department=all_rounder.department
        )
        record_inspection_result(
            step=step(submitted, code), actor=all_rounder, passed=True, notes=""
        )
    approve_step(step=step(submitted, "approval"), actor=all_rounder)
    submitted.refresh_from_db()
    assert submitted.status == ApplicationStatus.ISSUED


def test_returned_for_changes_then_resubmitted_picks_up_where_it_stopped(
    in_review_ubp: Application, citizen: User, people: dict[str, User]
) -> None:
    approve_step(step=step(in_review_ubp, "review"), actor=people["trade_approver"])
    record_inspection_result(
        step=step(in_review_ubp, "inspection-fire"),
        actor=people["fire_inspector"],
        passed=False,
        notes="No fire extinguisher on the premises.",
    )
    in_review_ubp.refresh_from_db()
    assert in_review_ubp.status == ApplicationStatus.RETURNED
    assert sms_templates()[-1] == "eservices_application_returned"
    assert "No fire extinguisher" in OutboxMessage.objects.latest("id").body
    fire = step(in_review_ubp, "inspection-fire")
    assert fire.status == StepStatus.OPEN

    # Staff cannot act while the applicant has it back.
    before = snapshot(in_review_ubp)
    with pytest.raises(ValidationError, match="not in review"):
        record_inspection_result(step=fire, actor=people["fire_inspector"], passed=True, notes="")
    assert snapshot(in_review_ubp) == before

    update_draft(
        application=in_review_ubp,
        actor=citizen,
        answers={"premises_location": "Ol Kalou town, Kenyatta Avenue, shop 4"},
    )
    resubmitted = resubmit_application(
        application=in_review_ubp, actor=citizen, note="Extinguisher bought and mounted."
    )
    assert resubmitted.status == ApplicationStatus.IN_REVIEW
    assert resubmitted.answers["premises_location"] == "Ol Kalou town, Kenyatta Avenue, shop 4"
    fire.refresh_from_db()
    assert fire.opened_at is not None
    assert fire.due_at == fire.opened_at + timedelta(hours=72)
    assert step(resubmitted, "review").status == StepStatus.DONE

    record_inspection_result(step=fire, actor=people["fire_inspector"], passed=True, notes="Fixed.")
    record_inspection_result(
        step=step(resubmitted, "inspection-health"),
        actor=people["health_inspector"],
        passed=True,
        notes="",
    )
    approve_step(step=step(resubmitted, "approval"), actor=people["trade_approver"])
    resubmitted.refresh_from_db()
    assert resubmitted.status == ApplicationStatus.ISSUED


def test_a_resubmission_that_would_change_the_fee_is_refused(
    in_review_ubp: Application, citizen: User, people: dict[str, User]
) -> None:
    return_for_changes(
        step=step(in_review_ubp, "review"),
        actor=people["trade_approver"],
        note="Add the plot number.",
    )
    update_draft(application=in_review_ubp, actor=citizen, answers={"category": "supermarket"})
    before = snapshot(in_review_ubp)
    with pytest.raises(ValidationError, match=r"KES 165,000.00 instead of KES 10,000.00"):
        resubmit_application(application=in_review_ubp, actor=citizen)
    assert snapshot(in_review_ubp) == before


def test_rejection_closes_the_open_steps_and_tells_the_applicant_why(
    in_review_ubp: Application, people: dict[str, User]
) -> None:
    rejected = reject_application(
        step=step(in_review_ubp, "review"),
        actor=people["trade_approver"],
        reason="The premises are in a residential zone.",
    )
    assert rejected.status == ApplicationStatus.REJECTED
    assert rejected.decision_reason == "The premises are in a residential zone."
    assert set(rejected.steps.values_list("status", flat=True)) == {StepStatus.CLOSED}
    assert "residential zone" in OutboxMessage.objects.latest("id").body


def test_an_incomplete_draft_is_refused_per_field_and_nothing_changes(
    ubp: Service, citizen: User
) -> None:
    application = DraftFactory.create(
        applicant=citizen, service=ubp, answers={"business_name": "Njeri Salon"}
    )
    before = snapshot(application)
    with pytest.raises(ValidationError) as raised:
        submit_application(application=application, actor=citizen)
    errors = raised.value.message_dict
    assert errors["category"] == ["Kind and size of business: this is required."]
    assert errors["id_copy"] == ["Copy of the owner's national ID: upload this document."]
    assert "business_name" not in errors
    assert snapshot(application) == before


def test_draft_answers_are_checked_per_field_and_kept_as_typed(ubp: Service, citizen: User) -> None:
    application = create_draft(applicant=citizen, service=ubp)
    result = update_draft(
        application=application,
        actor=citizen,
        answers={
            "business_name": "  Njeri Salon ",
            "kra_pin": "12345",
            "employees": "many",
            "premises_ward": "9999",
            "contact_phone": "0712-000-111",
            "category": "casino",
            "unknown_field": "ignored",
        },
    )
    assert result.errors == {
        "kra_pin": [
            "Business KRA PIN: Enter a KRA PIN: A or P, then 9 digits, then a letter (like A012345678B)."
        ],
        "employees": ["Number of staff: enter a number, like 120."],
        "premises_ward": ["Ward of the premises: choose a ward of this county."],
        "category": ["Kind and size of business: choose one of the options."],
    }
    application.refresh_from_db()
    assert application.answers == {
        "business_name": "Njeri Salon",
        "kra_pin": "12345",
        "employees": "many",
        "premises_ward": "9999",
        "contact_phone": "254712000111",
        "category": "casino",
    }
    assert application.ward is None


def test_field_errors_use_the_kiswahili_label_when_the_user_reads_kiswahili(
    ubp: Service, citizen: User
) -> None:
    application = create_draft(applicant=citizen, service=ubp)
    with translation.override("sw"):
        result = update_draft(application=application, actor=citizen, answers={"employees": "many"})
    assert result.errors["employees"][0].startswith("Idadi ya wafanyakazi:")


def test_a_free_service_goes_straight_to_review(ubp: Service, citizen: User) -> None:
    version = create_draft_version(service=ubp, actor=None, changes={"fee_schedule_code": ""})
    publish_service_version(version=version, actor=None)
    ubp.refresh_from_db()
    application = DraftFactory.create(
        applicant=citizen,
        service=ubp,
        answers=UBP_ANSWERS,
        documents={"id_copy": pdf(), "kra_certificate": pdf()},
    )
    submitted = submit_application(application=application, actor=citizen)
    assert submitted.status == ApplicationStatus.IN_REVIEW
    assert submitted.bill is None
    assert submitted.fee_total == Decimal("0.00")
    assert Bill.objects.count() == 0
    assert step(submitted, "review").status == StepStatus.OPEN


def test_a_bill_paid_from_the_payers_credit_moves_the_application_on_at_once(
    draft_ubp: Application, citizen: User
) -> None:
    # An earlier overpayment left KES 10,000 of credit under the same ID number.
    earlier = BillFactory.create(
        payer=Payer(name="Wanjiku Kamau", phone="0712000111", id_number="22334455"),
        amount=Decimal("100.00"),
        department=ubp_department(draft_ubp),
        due_on=date(2026, 3, 1),
    )
    PaymentFactory.create(bill=earlier, amount=Decimal("10100.00"), external_ref="SKJ7H2K9Q1")
    submitted = submit_application(application=draft_ubp, actor=citizen, on_date=date(2026, 2, 2))
    assert submitted.status == ApplicationStatus.IN_REVIEW
    assert submitted.bill is not None
    assert submitted.bill.status == BillStatus.PAID
    assert "eservices_application_submitted" not in sms_templates()


def ubp_department(application: Application) -> Department:
    return application.service.department


def test_renewing_pre_fills_last_years_answers_and_charges_the_late_penalty(
    in_review_ubp: Application, citizen: User, people: dict[str, User]
) -> None:
    approve_step(step=step(in_review_ubp, "review"), actor=people["trade_approver"])
    record_inspection_result(
        step=step(in_review_ubp, "inspection-health"),
        actor=people["health_inspector"],
        passed=True,
        notes="",
    )
    record_inspection_result(
        step=step(in_review_ubp, "inspection-fire"),
        actor=people["fire_inspector"],
        passed=True,
        notes="",
    )
    approve_step(step=step(in_review_ubp, "approval"), actor=people["trade_approver"])
    in_review_ubp.refresh_from_db()
    # Make it last year's permit: this year's cannot be renewed before 1 December.
    assert in_review_ubp.issued_document is not None
    IssuedDocument.objects.filter(pk=in_review_ubp.issued_document.pk).update(
        valid_until=date(timezone.localdate().year - 1, 12, 31)
    )
    in_review_ubp.refresh_from_db()

    renewal = create_draft(
        applicant=citizen, service=in_review_ubp.service, renewal_of=in_review_ubp
    )
    assert renewal.answers == {
        **UBP_ANSWERS,
        "application_type": "renewal",
        "contact_phone": "254712000111",
    }
    assert renewal.renewal_of == in_review_ubp
    assert renewal.ward is not None
    assert renewal.ward.code == "0453"
    fees = preview_fees(user=citizen, application=renewal, on_date=date(2027, 4, 15))
    assert [(line.rule_code, line.amount) for line in fees.lines] == [
        ("permit", Decimal("10000.00")),
        ("late-renewal", Decimal("1000.00")),
    ]
    on_time = preview_fees(user=citizen, application=renewal, on_date=date(2027, 3, 31))
    assert on_time.total == Decimal("10000.00")


def test_someone_elses_permit_cannot_be_renewed(
    in_review_ubp: Application, other_citizen: User
) -> None:
    with pytest.raises(ValidationError, match="Only your own issued document"):
        create_draft(
            applicant=other_citizen, service=in_review_ubp.service, renewal_of=in_review_ubp
        )
    assert Application.objects.count() == 1


def test_an_application_keeps_the_version_it_was_made_under(
    draft_ubp: Application, citizen: User, ubp: Service
) -> None:
    old_version = draft_ubp.version
    changed_form = [
        *old_version.form,
        {"name": "signboard", "type": "text", "label_en": "Signboard text"},
    ]
    new_version = create_draft_version(service=ubp, actor=None, changes={"form": changed_form})
    publish_service_version(version=new_version, actor=None)
    ubp.refresh_from_db()
    assert ubp.current_version == new_version
    submitted = submit_application(application=draft_ubp, actor=citizen)
    assert submitted.version == old_version
    old_version.refresh_from_db()
    assert old_version.form == changed_form[:-1]
    newer = create_draft(applicant=citizen, service=ubp)
    assert newer.version == new_version


def test_the_work_queue_shows_open_steps_to_those_who_may_act_and_flags_overdue(
    in_review_ubp: Application, people: dict[str, User]
) -> None:
    assert [s.code for s in list_work_queue(user=people["trade_approver"])] == ["review"]
    assert list(list_work_queue(user=people["health_inspector"])) == []
    assert list(list_work_queue(user=people["lands_approver"])) == []
    approve_step(step=step(in_review_ubp, "review"), actor=people["trade_approver"])
    assert [s.code for s in list_work_queue(user=people["health_inspector"])] == [
        "inspection-health"
    ]
    assert [s.code for s in list_work_queue(user=people["fire_inspector"])] == ["inspection-fire"]

    later = timezone.now() + timedelta(hours=73)
    overdue = list_work_queue(user=people["health_inspector"], overdue_only=True, now=later)
    assert [s.code for s in overdue] == ["inspection-health"]
    assert list(list_work_queue(user=people["health_inspector"], overdue_only=True)) == []
    assert list(list_work_queue(user=people["health_inspector"], ward_code="0462")) == []
    assert (
        len(
            list_work_queue(user=people["health_inspector"], service_code="unified-business-permit")
        )
        == 1
    )


def test_a_supervisor_reassigns_a_step_and_only_the_assignee_may_act(
    in_review_ubp: Application, people: dict[str, User]
) -> None:
    review = step(in_review_ubp, "review")
    reassign_step(
        step=review, actor=people["trade_supervisor"], assignee=people["second_trade_approver"]
    )
    assert list(list_work_queue(user=people["trade_approver"])) == []
    assert [
        s.code for s in list_work_queue(user=people["second_trade_approver"], assigned="mine")
    ] == ["review"]

    before = snapshot(in_review_ubp)
    with pytest.raises(PermissionDenied):
        approve_step(step=review, actor=people["trade_approver"])
    with pytest.raises(PermissionDenied):
        reassign_step(
            step=review, actor=people["trade_approver"], assignee=people["trade_approver"]
        )
    with pytest.raises(ValidationError, match="may not act on this step"):
        reassign_step(
            step=review, actor=people["trade_supervisor"], assignee=people["health_inspector"]
        )
    assert snapshot(in_review_ubp) == before

    approve_step(step=review, actor=people["second_trade_approver"])
    assert step(in_review_ubp, "review").status == StepStatus.DONE


def test_staff_of_another_department_cannot_act_and_nothing_changes(
    in_review_ubp: Application, people: dict[str, User]
) -> None:
    before = snapshot(in_review_ubp)
    with pytest.raises(PermissionDenied):
        approve_step(step=step(in_review_ubp, "review"), actor=people["lands_approver"])
    with pytest.raises(PermissionDenied):
        return_for_changes(
            step=step(in_review_ubp, "review"), actor=people["health_inspector"], note="x"
        )
    with pytest.raises(PermissionDenied):
        reject_application(
            step=step(in_review_ubp, "review"), actor=people["lands_approver"], reason="x"
        )
    assert snapshot(in_review_ubp) == before


def test_another_citizen_cannot_change_or_submit_an_application(
    draft_ubp: Application, other_citizen: User
) -> None:
    before = snapshot(draft_ubp)
    with pytest.raises(PermissionDenied):
        update_draft(
            application=draft_ubp, actor=other_citizen, answers={"business_name": "Mine now"}
        )
    with pytest.raises(PermissionDenied):
        attach_document(application=draft_ubp, actor=other_citizen, kind="id_copy", upload=pdf())
    with pytest.raises(PermissionDenied):
        submit_application(application=draft_ubp, actor=other_citizen)
    with pytest.raises(PermissionDenied):
        preview_fees(user=other_citizen, application=draft_ubp)
    assert snapshot(draft_ubp) == before


def test_the_billed_breakdown_is_kept_with_the_application(in_review_ubp: Application) -> None:
    billed = FeeBreakdown.from_json(in_review_ubp.fees)
    assert billed.total == in_review_ubp.fee_total == Decimal("10000.00")
    assert in_review_ubp.fee_schedule is not None
    assert "Finance Act 2024" in in_review_ubp.fee_schedule.finance_act


def test_settling_the_same_bill_twice_moves_the_application_once(
    in_review_ubp: Application,
) -> None:
    assert in_review_ubp.bill is not None
    before = snapshot(in_review_ubp)
    handle_bill_settled(in_review_ubp.bill)
    assert snapshot(in_review_ubp) == before


def test_a_paid_bill_of_an_unknown_application_is_left_alone(catalogue: None) -> None:
    bill = BillFactory.create(
        payer=Payer(name="Kamau Mwangi", phone="0722000333"),
        lines=[LineInput("food-handler")],
        department=Department.objects.get(code="health"),
        due_on=date(2026, 3, 1),
        description="Food handler",
        source_type="eservices.application",
        source_ref="APP-NOSUCH1",
    )
    PaymentFactory.create(bill=bill)
    bill.refresh_from_db()
    assert bill.status == BillStatus.PAID
    assert Application.objects.count() == 0


def test_an_inspector_cannot_reject_and_an_unapproved_application_is_not_issued(
    in_review_ubp: Application, people: dict[str, User]
) -> None:
    approve_step(step=step(in_review_ubp, "review"), actor=people["trade_approver"])
    before = snapshot(in_review_ubp)
    with pytest.raises(ValidationError, match="does not apply to a step of this kind"):
        reject_application(
            step=step(in_review_ubp, "inspection-health"),
            actor=people["health_inspector"],
            reason="Dirty",
        )
    with pytest.raises(ValidationError, match="Only an approved application"):
        issue_document(application=in_review_ubp, actor=people["trade_approver"])
    with pytest.raises(ValidationError, match="Write what failed"):
        record_inspection_result(
            step=step(in_review_ubp, "inspection-health"),
            actor=people["health_inspector"],
            passed=False,
            notes=" ",
        )
    assert snapshot(in_review_ubp) == before
