"""Reports read from the read replica when one is configured, and nothing else does
(ADR 24): the replica may lag, so a page that has just written reads the primary."""

import copy
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from kaunti.core.db_router import REPLICA, PrimaryRouter, replica_alias
from kaunti.payments.models import Bill, Channel
from kaunti.payments.selectors.bills import get_bill_for_counter
from kaunti.payments.selectors.reports import (
    RevenueFilter,
    list_report_choices,
    summarise_revenue,
)
from kaunti.payments.services.recording import IncomingPayment, record_payments

PAID_AT = datetime(2026, 7, 15, 10, tzinfo=ZoneInfo("Africa/Nairobi"))
JULY = RevenueFilter(start=date(2026, 7, 1), end=date(2026, 7, 31))


@pytest.fixture(scope="module")
def replica(django_db_setup: None) -> Iterator[str]:
    """A replica alias, as `DATABASE_REPLICA_URL` makes it, on the primary's test database
    (what `TEST: {"MIRROR": "default"}` gives): a second connection, as a real replica is.
    Module-scoped so that it exists before the test's database access is set up."""
    connections.settings[REPLICA] = copy.deepcopy(connections.settings["default"])
    try:
        yield REPLICA
    finally:
        connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]


def test_without_a_replica_reports_read_the_primary(settings: Any) -> None:
    settings.DATABASES = {"default": settings.DATABASES["default"]}
    assert replica_alias() == "default"


def test_migrations_never_run_on_the_replica_and_writes_go_to_the_primary() -> None:
    router = PrimaryRouter()
    assert router.allow_migrate(REPLICA, "payments") is False
    assert router.allow_migrate("default", "payments") is True
    assert router.db_for_write(Bill) == "default"
    assert router.db_for_read(Bill) is None  # the primary, unless a query names the replica


@pytest.mark.django_db(transaction=True, databases=["default", REPLICA])
def test_a_report_reads_every_figure_from_the_replica(
    replica: str, make_bill: Callable[..., Bill]
) -> None:
    bill = make_bill(Decimal("1000.00"))
    record_payments(
        [
            IncomingPayment(
                provider="mpesa-c2b",
                external_ref="TRP0000001",
                channel=Channel.MPESA_PAYBILL,
                amount=Decimal("1000"),
                paid_at=PAID_AT,
                bill_number=bill.number,
            )
        ]
    )
    assert replica_alias() == replica
    with (
        CaptureQueriesContext(connections[replica]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        by_stream = summarise_revenue(revenue_filter=JULY, group_by="stream")
        by_ward = summarise_revenue(revenue_filter=JULY, group_by="ward")
        choices = list_report_choices()
    assert by_stream.total_amount == Decimal("1000.00")
    assert by_stream.total_count == 1
    assert by_ward.total_amount == Decimal("1000.00")
    assert choices["wards"]
    assert choices["streams"]
    assert len(on_replica) >= 4
    assert list(on_primary) == []
    # A page that has just written reads what it wrote from the primary, not the replica.
    with CaptureQueriesContext(connections[replica]) as after_write:
        assert get_bill_for_counter(number=bill.number) is not None
    assert list(after_write) == []
