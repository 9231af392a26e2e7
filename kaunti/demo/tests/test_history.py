"""The demo history: a year a visitor can see on the dashboard, reports and queues, loaded
through the services so that the books balance and the audit chain verifies."""

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from kaunti.conftest import LockOrderWatch
from kaunti.core.models import AuditEvent
from kaunti.core.services.audit import find_first_broken_link
from kaunti.demo.history import load_history
from kaunti.eservices.models import Application, ApplicationStatus, Complaint, ComplaintStatus
from kaunti.eservices.services.catalogue_data import load_catalogue
from kaunti.ledger.models import JournalEntry
from kaunti.ledger.selectors import get_trial_balance
from kaunti.ledger.services import load_chart_of_accounts
from kaunti.payments.models import (
    Allocation,
    Bill,
    Channel,
    Payment,
    Receipt,
    ReceiptCancellation,
)
from kaunti.payments.selectors.dashboard import get_revenue_dashboard
from kaunti.payments.selectors.reports import RevenueFilter, summarise_revenue
from kaunti.payments.services.price_list import load_price_list

PAYMENTS = 150
# A history that ends on a given day is the same every time it is loaded.
TODAY = date(2026, 12, 4)


@pytest.fixture
def demo_county(reference_data: None, tmp_path: Path, settings: Any) -> None:
    """The county as `load_demo_data` sets it up before the history; files under tmp."""
    settings.VAR_DIR = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    load_chart_of_accounts()
    load_price_list(county_code=settings.COUNTY_CODE)
    load_catalogue(county_code=settings.COUNTY_CODE)


def counts() -> dict[str, int]:
    return {
        "bills": Bill.objects.count(),
        "payments": Payment.objects.count(),
        "entries": JournalEntry.objects.count(),
        "applications": Application.objects.count(),
        "complaints": Complaint.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


@pytest.mark.django_db
def test_history_fills_the_dashboard_and_reports_across_streams_wards_channels_and_months(
    demo_county: None, lock_order: LockOrderWatch
) -> None:
    # The history is one transaction; each of its events, a block inside it, is watched as
    # the transaction it would be in a live county.
    with lock_order.each_block_inside(levels=2):
        summary = load_history(payments=PAYMENTS, today=TODAY)

    assert summary.loaded
    today = TODAY
    year = RevenueFilter(start=today - timedelta(days=365), end=today)
    by_stream = summarise_revenue(revenue_filter=year, group_by="stream")
    by_ward = summarise_revenue(revenue_filter=year, group_by="ward")
    by_channel = summarise_revenue(revenue_filter=year, group_by="channel")
    by_month = summarise_revenue(revenue_filter=year, group_by="month")
    assert len([row for row in by_stream.rows if row.amount > 0]) >= 8
    assert len([row for row in by_ward.rows if row.amount > 0]) >= 6
    assert {row.key for row in by_channel.rows if row.amount > 0} == {
        Channel.MPESA_STK,
        Channel.MPESA_PAYBILL,
        Channel.CASH,
        Channel.BANK,
        Channel.CHEQUE,
    }
    assert len([row for row in by_month.rows if row.amount > 0]) >= 12
    # Every shilling is counted once: the year's collections are what was put on bills
    # (cancelled receipts taken back).
    assert by_month.total_amount == Allocation.objects.aggregate(total=Sum("amount"))["total"]
    dashboard = get_revenue_dashboard(today=today)
    assert dashboard.year_to_date.amount > 0
    assert len([row for row in dashboard.by_month.rows if row.amount > 0]) >= 5
    # Payments spread over the year, as their receipts and journal entries say.
    first = Payment.objects.order_by("paid_at").first()
    assert first is not None
    assert timezone.localdate(first.paid_at) < today - timedelta(days=330)
    assert Receipt.objects.filter(issued_at__date__lt=today - timedelta(days=300)).exists()


@pytest.mark.django_db
def test_history_has_every_workflow_state_balances_verifies_and_loads_once(
    demo_county: None, lock_order: LockOrderWatch
) -> None:
    # The history is one transaction; each of its events, a block inside it, is watched as
    # the transaction it would be in a live county.
    with lock_order.each_block_inside(levels=2):
        summary = load_history(payments=PAYMENTS, today=TODAY)

    # Approved is not a resting state: the document is issued in the same transaction.
    resting = set(ApplicationStatus.values) - {ApplicationStatus.APPROVED}
    assert set(Application.objects.values_list("status", flat=True)) == resting
    assert set(summary.applications) == resting
    assert {
        ComplaintStatus.IN_PROGRESS,
        ComplaintStatus.RESOLVED,
        ComplaintStatus.REOPENED,
    } <= set(Complaint.objects.values_list("status", flat=True))
    assert ReceiptCancellation.objects.exists()
    trial = get_trial_balance()
    assert trial.total_debit == trial.total_credit
    assert trial.total_debit > 0
    assert find_first_broken_link() is None
    # Receipt numbers run without gaps in each financial year.
    for year in set(Receipt.objects.values_list("financial_year", flat=True)):
        sequences = sorted(
            Receipt.objects.filter(financial_year=year).values_list("sequence", flat=True)
        )
        assert sequences == list(range(1, len(sequences) + 1))
    # The history's SMS stayed on this machine, in its own file.
    assert (Path(settings.VAR_DIR) / "demo-history-sms.jsonl").exists()

    before = counts()
    again = load_history(payments=PAYMENTS, today=TODAY)

    assert not again.loaded
    assert again.reason == "already loaded"
    assert counts() == before
