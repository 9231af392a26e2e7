"""Reconciliation of M-Pesa and bank statements against Kaunti's payments."""

import csv
import io
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pytest_django.asserts import assertContains, assertRedirects

from kaunti.accounts.models import User
from kaunti.conftest import sign_in_staff
from kaunti.core.models import AuditEvent
from kaunti.ledger.selectors import get_account_balance, get_trial_balance
from kaunti.ledger.services import close_period
from kaunti.payments.models import (
    Bill,
    BillStatus,
    Channel,
    LineDecision,
    MatchStatus,
    Payment,
    StatementImport,
    StatementKind,
    StatementLine,
)
from kaunti.payments.selectors.reconciliation import list_payments_missing_from_statement
from kaunti.payments.services.reconciliation import (
    ignore_statement_line,
    import_statement,
    record_statement_line,
)
from kaunti.payments.services.recording import record_payment

pytestmark = pytest.mark.django_db

NAIROBI = ZoneInfo("Africa/Nairobi")
MPESA_HEADER = [
    "Receipt No.",
    "Completion Time",
    "Initiation Time",
    "Details",
    "Transaction Status",
    "Paid In",
    "Withdrawn",
    "Balance",
    "Balance Confirmed",
    "Reason Type",
    "Other Party Info",
    "Linked Transaction ID",
    "A/C No.",
]
BANK_HEADER = ["Date", "Value Date", "Reference", "Description", "Debit", "Credit", "Balance"]


def at(day: int, hour: int = 10, month: int = 10) -> datetime:
    return datetime(2026, month, day, hour, 15, 32, tzinfo=NAIROBI)


def mpesa_row(
    receipt: str,
    paid_in: str,
    *,
    account: str = "",
    when: str = "2026-10-14 10:15:32",
    status: str = "Completed",
    withdrawn: str = "",
) -> list[str]:
    return [
        receipt,
        when,
        when,
        f"Pay Bill from 254712***222 - WANJIRU NJOROGE Acc. {account}",
        status,
        paid_in,
        withdrawn,
        "1,250,000.00",
        "Yes",
        "Pay Bill Online" if paid_in else "Business Charge",
        "254712***222 - WANJIRU NJOROGE",
        "",
        account,
    ]


def to_csv(header: list[str], rows: list[list[str]], *, preamble: bool = True) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if preamble:  # the portal's export starts with lines about the account
        writer.writerow(["Account Holder:", "COUNTY GOVERNMENT OF NYANDARUA"])
        writer.writerow(["Time Period:", "From 01-10-2026 To 31-10-2026"])
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def pay_mpesa(bill_number: str, amount: str, receipt: str, when: datetime) -> Payment:
    return record_payment(
        provider="mpesa-c2b",
        external_ref=receipt,
        channel=Channel.MPESA_PAYBILL,
        amount=Decimal(amount),
        paid_at=when,
        bill_number=bill_number,
        mpesa_receipt=receipt,
    ).payment


@pytest.fixture
def officer(make_staff: Callable[..., User]) -> User:
    return make_staff(["revenue_officer"])


@pytest.fixture
def october(make_bill: Callable[..., Bill]) -> dict[str, Bill]:
    """Three bills: one paid in full (in the statement), one paid 500 (the statement says
    600), one still open (its payment is in the statement only); and a 300 payment Kaunti
    has that the statement does not show."""
    bills = {
        "matched": make_bill(Decimal("1000.00")),
        "mismatch": make_bill(Decimal("800.00")),
        "open": make_bill(Decimal("750.00")),
        "extra": make_bill(Decimal("300.00")),
    }
    pay_mpesa(bills["matched"].number, "1000", "TJA1000001", at(14))
    pay_mpesa(bills["mismatch"].number, "500", "TJB2000002", at(14, 11))
    pay_mpesa(bills["extra"].number, "300", "TJD4000004", at(15))
    return bills


def october_statement(bills: dict[str, Bill]) -> bytes:
    return to_csv(
        MPESA_HEADER,
        [
            mpesa_row("TJA1000001", "1,000.00", account=bills["matched"].number),
            mpesa_row("TJB2000002", "600.00", account=bills["mismatch"].number),
            mpesa_row("TJC3000003", "750.00", account=bills["open"].number),
            mpesa_row("TJE5000005", "", withdrawn="-30.00"),  # a charge: not a receipt
            mpesa_row("TJF6000006", "200.00", status="Failed"),  # no money moved
            mpesa_row("TJG7000007", "1,500.00", account="NOSUCHBILL", when="2026-10-16 09:00:00"),
        ],
    )


def import_mpesa(content: bytes, actor: User, **kwargs: object) -> StatementImport:
    return import_statement(
        kind=StatementKind.MPESA,
        file_name="ORG_123456_Statement.csv",
        content=content,
        actor=actor,
        **kwargs,  # type: ignore[arg-type]
    )


def line(statement: StatementImport, reference: str) -> StatementLine:
    return statement.lines.get(reference=reference)


def test_an_mpesa_statement_is_matched_on_receipt_and_amount(
    october: dict[str, Bill], officer: User
) -> None:
    statement = import_mpesa(october_statement(october), officer)

    statuses = dict(statement.lines.values_list("reference", "status"))
    assert statuses == {
        "TJA1000001": MatchStatus.MATCHED,
        "TJB2000002": MatchStatus.AMOUNT_MISMATCH,
        "TJC3000003": MatchStatus.MISSING_IN_KAUNTI,
        "TJG7000007": MatchStatus.MISSING_IN_KAUNTI,
    }
    assert (statement.row_count, statement.line_count) == (6, 4)
    assert (statement.skipped_count, statement.error_count) == (2, 0)
    assert (statement.period_start, statement.period_end) == (
        date(2026, 10, 14),
        date(2026, 10, 16),
    )
    mismatch = line(statement, "TJB2000002")
    assert mismatch.amount == Decimal("600.00")
    assert mismatch.payment is not None
    assert mismatch.payment.amount == Decimal("500.00")
    missing = line(statement, "TJC3000003")
    assert missing.row_number == 6  # two preamble lines, the header, then the rows
    assert missing.account_number == october["open"].number
    assert missing.occurred_at == at(14)
    assert missing.payment is None
    extra = list(list_payments_missing_from_statement(statement=statement))
    assert [payment.external_ref for payment in extra] == ["TJD4000004"]
    event = AuditEvent.objects.get(action="payments.statement_imported")
    assert event.actor_id == officer.pk
    assert event.data["matched"] == 1
    assert event.data["amount_mismatch"] == 1
    assert event.data["missing_in_kaunti"] == 2
    assert event.data["skipped"] == 2


def test_recording_a_missing_line_into_suspense_is_idempotent_and_audited(
    october: dict[str, Bill], officer: User
) -> None:
    statement = import_mpesa(october_statement(october), officer)
    unknown_bill = line(statement, "TJG7000007")
    payments_before = Payment.objects.count()

    first = record_statement_line(line=unknown_bill, actor=officer)
    again = record_statement_line(line=unknown_bill, actor=officer)

    assert again.pk == first.pk
    assert Payment.objects.count() == payments_before + 1
    assert (first.provider, first.external_ref, first.mpesa_receipt) == (
        "mpesa-c2b",
        "TJG7000007",
        "TJG7000007",
    )
    assert first.channel == Channel.MPESA_PAYBILL
    assert first.amount == Decimal("1500.00")
    assert first.paid_at == datetime(2026, 10, 16, 9, 0, tzinfo=NAIROBI)
    assert first.account_reference == "NOSUCHBILL"
    assert first.is_in_suspense
    assert get_account_balance(code="2100") == Decimal("-1500.00")
    assert get_trial_balance().is_balanced
    unknown_bill.refresh_from_db()
    assert unknown_bill.decision == LineDecision.RECORDED
    assert unknown_bill.payment_id == first.pk
    assert unknown_bill.decided_by_id == officer.pk
    events = AuditEvent.objects.filter(action="payments.statement_line_recorded")
    assert events.count() == 1
    assert events.get().data["reference"] == "TJG7000007"
    assert events.get().data["suspense"] is True


def test_recording_a_missing_line_pays_the_open_bill_its_account_number_names(
    october: dict[str, Bill], officer: User
) -> None:
    statement = import_mpesa(october_statement(october), officer)

    payment = record_statement_line(line=line(statement, "TJC3000003"), actor=officer)

    bill = Bill.objects.get(pk=october["open"].pk)
    assert payment.bill_id == bill.pk
    assert not payment.is_in_suspense
    assert (bill.paid, bill.status) == (Decimal("750.00"), BillStatus.PAID)


def test_a_payment_that_arrived_after_the_import_is_linked_not_recorded_twice(
    october: dict[str, Bill], officer: User
) -> None:
    statement = import_mpesa(october_statement(october), officer)
    late = record_payment(  # the prompt's callback, late: its own provider reference
        provider="mpesa-stk",
        external_ref="ws_CO_141020261015",
        channel=Channel.MPESA_STK,
        amount=Decimal("750"),
        paid_at=at(14),
        bill_number=october["open"].number,
        mpesa_receipt="TJC3000003",
    ).payment
    payments_before = Payment.objects.count()

    linked = record_statement_line(line=line(statement, "TJC3000003"), actor=officer)

    assert linked.pk == late.pk
    assert Payment.objects.count() == payments_before
    event = AuditEvent.objects.get(action="payments.statement_line_recorded")
    assert event.data["created"] is False


def test_a_matched_line_cannot_be_recorded_and_nothing_changes(
    october: dict[str, Bill], officer: User
) -> None:
    statement = import_mpesa(october_statement(october), officer)
    matched = line(statement, "TJA1000001")
    payments_before, events_before = Payment.objects.count(), AuditEvent.objects.count()

    with pytest.raises(ValidationError, match="Only lines missing in Kaunti can be recorded"):
        record_statement_line(line=matched, actor=officer)

    matched.refresh_from_db()
    assert matched.decision == LineDecision.NONE
    assert Payment.objects.count() == payments_before
    assert AuditEvent.objects.count() == events_before


def test_ignoring_a_line_keeps_the_reason_and_is_audited(
    october: dict[str, Bill], officer: User
) -> None:
    statement = import_mpesa(october_statement(october), officer)
    mismatch = line(statement, "TJB2000002")

    ignore_statement_line(line=mismatch, reason="  Payer topped up  at the office ", actor=officer)

    mismatch.refresh_from_db()
    assert mismatch.decision == LineDecision.IGNORED
    assert mismatch.decision_reason == "Payer topped up at the office"
    event = AuditEvent.objects.get(action="payments.statement_line_ignored")
    assert event.data["reason"] == "Payer topped up at the office"
    assert event.data["status"] == MatchStatus.AMOUNT_MISMATCH


def test_ignoring_without_a_reason_or_twice_is_refused_and_nothing_changes(
    october: dict[str, Bill], officer: User
) -> None:
    statement = import_mpesa(october_statement(october), officer)
    missing = line(statement, "TJG7000007")
    events_before = AuditEvent.objects.count()

    with pytest.raises(ValidationError, match="Give the reason"):
        ignore_statement_line(line=missing, reason="   ", actor=officer)
    missing.refresh_from_db()
    assert missing.decision == LineDecision.NONE
    assert AuditEvent.objects.count() == events_before

    ignore_statement_line(line=missing, reason="Test payment by Safaricom", actor=officer)
    with pytest.raises(ValidationError, match="already been reviewed"):
        record_statement_line(line=missing, actor=officer)
    missing.refresh_from_db()
    assert (missing.decision, missing.payment_id) == (LineDecision.IGNORED, None)
    assert not Payment.objects.filter(external_ref="TJG7000007").exists()
    assert AuditEvent.objects.count() == events_before + 1


def test_a_malformed_csv_reports_the_bad_rows_and_keeps_the_good(officer: User) -> None:
    rows = [
        mpesa_row("TKA0000001", "1,200.00", account="ABC"),  # row 2: good
        mpesa_row("TKB0000002", "12,3x4", account="ABC"),  # row 3: the amount
        mpesa_row("TKC0000003", "100.00", when="27/13/2026 10:00"),  # row 4: the time
        mpesa_row("", "100.00"),  # row 5: no receipt
        ["TKD0000004", "2026-10-14 10:00:00", "only three cells"],  # row 6
        mpesa_row("TKA0000001", "1,200.00"),  # row 7: a repeat of row 2
        mpesa_row("TKE0000005", "99.999"),  # row 8: a tenth of a cent
        mpesa_row(
            "TKF0000006", "2,500.50", account="XYZ", when="2026-10-15 08:00:00"
        ),  # row 9: good
    ]
    content = to_csv(MPESA_HEADER, rows, preamble=False)

    statement = import_mpesa(content, officer)

    assert sorted(statement.lines.values_list("reference", "amount")) == [
        ("TKA0000001", Decimal("1200.00")),
        ("TKF0000006", Decimal("2500.50")),
    ]
    assert statement.errors == [
        {"row": 3, "reason": "Paid In “12,3x4” is not an amount"},
        {
            "row": 4,
            "reason": "Completion Time “27/13/2026 10:00” is not a date and time like 2026-11-27 10:15:32",
        },
        {"row": 5, "reason": "“Receipt No.” is empty"},
        {"row": 6, "reason": "it has 3 columns where the header has 13"},
        {"row": 7, "reason": "Receipt No. TKA0000001 is already in row 2"},
        {"row": 8, "reason": "Paid In “99.999” is not an amount in shillings and cents"},
    ]
    assert (statement.row_count, statement.line_count, statement.error_count) == (8, 2, 6)
    assert statement.skipped_count == 0


def test_a_file_that_is_not_a_statement_is_refused_and_nothing_is_written(
    officer: User,
) -> None:
    content = to_csv(BANK_HEADER, [["2026-10-14", "2026-10-14", "SL1", "Deposit", "", "5", ""]])

    with pytest.raises(ValidationError, match="not an M-Pesa organisation statement"):
        import_mpesa(content, officer)

    assert StatementImport.objects.count() == 0
    assert StatementLine.objects.count() == 0
    assert not AuditEvent.objects.filter(action="payments.statement_imported").exists()


def test_a_file_with_no_readable_receipt_is_refused_listing_its_rows(officer: User) -> None:
    content = to_csv(MPESA_HEADER, [mpesa_row("TLA0000001", "abc")], preamble=False)

    with pytest.raises(ValidationError) as refused:
        import_mpesa(content, officer)

    assert refused.value.messages == [
        "No receipt in the file could be read; nothing was imported.",
        "Row 2: Paid In “abc” is not an amount.",
    ]
    assert StatementImport.objects.count() == 0


def test_the_same_file_cannot_be_imported_twice(october: dict[str, Bill], officer: User) -> None:
    content = october_statement(october)
    import_mpesa(content, officer)

    with pytest.raises(ValidationError, match="already imported"):
        import_mpesa(content, officer)

    assert StatementImport.objects.count() == 1
    assert StatementLine.objects.count() == 4


def test_a_missing_line_dated_in_a_closed_month_is_refused_and_nothing_is_written(
    october: dict[str, Bill], officer: User, make_staff: Callable[..., User]
) -> None:
    statement = import_mpesa(october_statement(october), officer)
    close_period(year=2026, month=10, actor=make_staff(["supervisor"]))
    missing = line(statement, "TJG7000007")
    payments_before, events_before = Payment.objects.count(), AuditEvent.objects.count()

    with pytest.raises(ValidationError, match="books for 2026-10 are closed"):
        record_statement_line(line=missing, actor=officer)

    missing.refresh_from_db()
    assert missing.decision == LineDecision.NONE
    assert Payment.objects.count() == payments_before
    assert AuditEvent.objects.count() == events_before


# --- Bank statements ------------------------------------------------------------------


def pay_at_counter(bill: Bill, amount: str, external_ref: str, channel: str) -> Payment:
    """What the counter records for a slip or cheque (`services.counter`)."""
    return record_payment(
        provider="counter",
        external_ref=external_ref,
        channel=channel,
        amount=Decimal(amount),
        paid_at=at(14),
        bill_number=bill.number,
    ).payment


def test_a_bank_statement_matches_slips_of_its_bank_and_cheques_from_the_counter(
    make_bill: Callable[..., Bill], officer: User
) -> None:
    pay_at_counter(make_bill(Decimal("500.00")), "500", "bank:kcb:SL100200", Channel.BANK)
    pay_at_counter(make_bill(Decimal("900.00")), "900", "cheque:equity:000123", Channel.CHEQUE)
    unbanked = pay_at_counter(make_bill(Decimal("200.00")), "200", "bank:kcb:SL999", Channel.BANK)
    pay_at_counter(make_bill(Decimal("100.00")), "100", "bank:coop:SL555", Channel.BANK)
    content = to_csv(
        BANK_HEADER,
        [
            ["14/10/2026", "14/10/2026", "sl 100200", "CASH DEPOSIT", "", "500.00", "10,500.00"],
            ["14/10/2026", "15/10/2026", "000123", "CHQ DEPOSIT", "", "900.00", "11,400.00"],
            ["15/10/2026", "15/10/2026", "SL777", "CASH DEPOSIT", "", "2,000.00", "13,400.00"],
            ["15/10/2026", "15/10/2026", "CHG", "LEDGER FEE", "150.00", "", "13,250.00"],
        ],
        preamble=False,
    )

    statement = import_statement(
        kind=StatementKind.BANK,
        file_name="kcb.csv",
        content=content,
        actor=officer,
        bank_code="kcb",
    )

    assert dict(statement.lines.values_list("reference", "status")) == {
        "SL100200": MatchStatus.MATCHED,
        "000123": MatchStatus.MATCHED,
        "SL777": MatchStatus.MISSING_IN_KAUNTI,
    }
    assert (statement.skipped_count, statement.bank_code) == (1, "kcb")
    assert list(list_payments_missing_from_statement(statement=statement)) == [unbanked]


def test_a_missing_bank_credit_is_recorded_under_the_counter_reference_of_its_slip(
    officer: User, price_list: None
) -> None:
    content = to_csv(
        BANK_HEADER,
        [["15/10/2026", "15/10/2026", "SL777", "CASH DEPOSIT", "", "2,000.00", "13,400.00"]],
        preamble=False,
    )
    statement = import_statement(
        kind=StatementKind.BANK,
        file_name="kcb.csv",
        content=content,
        actor=officer,
        bank_code="kcb",
    )

    payment = record_statement_line(line=line(statement, "SL777"), actor=officer)

    assert (payment.provider, payment.external_ref) == ("counter", "bank:kcb:SL777")
    assert (payment.channel, payment.amount) == (Channel.BANK, Decimal("2000.00"))
    assert payment.paid_at == datetime(2026, 10, 15, 0, 0, tzinfo=NAIROBI)
    assert payment.is_in_suspense


def test_a_bank_statement_without_its_bank_is_refused(officer: User) -> None:
    content = to_csv(BANK_HEADER, [["15/10/2026", "", "SL7", "DEP", "", "20.00", ""]])

    with pytest.raises(ValidationError, match="Choose the bank"):
        import_statement(kind=StatementKind.BANK, file_name="b.csv", content=content, actor=officer)

    assert StatementImport.objects.count() == 0


# --- Pages ----------------------------------------------------------------------------


@pytest.fixture
def imported(october: dict[str, Bill], officer: User) -> StatementImport:
    return import_mpesa(october_statement(october), officer)


def _pages(statement: StatementImport) -> list[str]:
    base = f"/staff/reconciliation/{statement.public_id}/"
    return ["/staff/reconciliation/", "/staff/reconciliation/import/", base, f"{base}?show=matched"]


def test_anonymous_visitors_are_sent_to_the_staff_sign_in(
    client: Client, imported: StatementImport
) -> None:
    for page in _pages(imported):
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"].startswith("/staff/sign-in/?next=")


def test_citizens_and_staff_without_the_role_are_refused(
    client: Client, imported: StatementImport, citizen: User, make_staff: Callable[..., User]
) -> None:
    client.force_login(citizen)
    for page in _pages(imported):
        assert client.get(page).status_code == 403
    client.logout()
    sign_in_staff(client, make_staff(["cashier"]))
    for page in _pages(imported):
        assert client.get(page).status_code == 403
    row = line(imported, "TJG7000007")
    response = client.post(
        f"/staff/reconciliation/{imported.public_id}/rows/{row.row_number}/record/"
    )
    assert response.status_code == 403
    row.refresh_from_db()
    assert row.decision == LineDecision.NONE
    assert not Payment.objects.filter(external_ref="TJG7000007").exists()


def test_staff_with_the_role_see_every_page(
    client: Client, imported: StatementImport, officer: User
) -> None:
    sign_in_staff(client, officer)
    for page in _pages(imported):
        assert client.get(page).status_code == 200


def test_an_officer_imports_a_statement_and_sees_the_bad_rows_listed(
    client: Client, october: dict[str, Bill], officer: User
) -> None:
    sign_in_staff(client, officer)
    content = october_statement(october) + b"TJZ9999999,not a time,,,Completed,5.00,,,,,,,\r\n"
    upload = SimpleUploadedFile("statement.csv", content, content_type="text/csv")

    response = client.post(
        "/staff/reconciliation/import/", {"kind": "mpesa", "statement_file": upload}
    )

    statement = StatementImport.objects.get()
    assertRedirects(response, f"/staff/reconciliation/{statement.public_id}/")
    page = client.get(response["Location"])
    assertContains(page, "Some rows could not be read and were not imported")
    assertContains(page, "Row 10: Completion Time “not a time” is not a date and time")
    assertContains(page, "Missing in Kaunti (2)")
    assertContains(page, "Missing in the statement (1)")
    assertContains(page, "TJG7000007")


def test_an_officer_records_a_missing_line_from_the_page(
    client: Client, imported: StatementImport, officer: User
) -> None:
    sign_in_staff(client, officer)
    row = line(imported, "TJG7000007")

    response = client.post(
        f"/staff/reconciliation/{imported.public_id}/rows/{row.row_number}/record/", follow=True
    )

    assertContains(response, f"Row {row.row_number} is recorded and held in suspense")
    assert Payment.objects.get(external_ref="TJG7000007").is_in_suspense


def test_a_bad_upload_is_refused_on_the_page_and_nothing_is_written(
    client: Client, officer: User
) -> None:
    sign_in_staff(client, officer)
    upload = SimpleUploadedFile("notes.csv", b"hello,world\r\n1,2\r\n", content_type="text/csv")

    response = client.post(
        "/staff/reconciliation/import/", {"kind": "mpesa", "statement_file": upload}
    )

    assert response.status_code == 200
    assertContains(response, "There is a problem")
    assertContains(response, "The file is not an M-Pesa organisation statement")
    assert StatementImport.objects.count() == 0
