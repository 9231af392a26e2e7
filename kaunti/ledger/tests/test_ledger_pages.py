"""The ledger's staff pages: trial balance, account statement, accounting periods."""

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django.asserts import assertContains, assertRedirects

from kaunti.accounts.models import User
from kaunti.conftest import sign_in_staff
from kaunti.core.models import AuditEvent
from kaunti.ledger.models import AccountingPeriod
from kaunti.ledger.services import Line, load_chart_of_accounts, post_entry

pytestmark = pytest.mark.django_db

READ_PAGES = [
    "/staff/ledger/?as_of=2026-10-31",
    "/staff/ledger/accounts/1100/?start=2026-10-01&end=2026-10-31",
    "/staff/ledger/periods/",
]


@pytest.fixture
def chart(reference_data: None) -> None:
    load_chart_of_accounts()


def post(debit: str, credit: str, amount: str, ref: str, posted_on: date) -> None:
    post_entry(
        lines=[Line(debit, debit=Decimal(amount)), Line(credit, credit=Decimal(amount))],
        memo=f"Entry {ref}",
        source_type="test",
        source_ref=ref,
        posted_on=posted_on,
    )


@pytest.fixture
def october(chart: None) -> None:
    post("1100", "2100", "1000.00", "A", date(2026, 9, 30))
    post("1100", "2100", "600.00", "B", date(2026, 10, 2))
    post("2100", "1100", "150.00", "C", date(2026, 10, 3))
    post("1110", "2200", "250.00", "D", date(2026, 10, 3))


def closed_periods() -> list[str]:
    return [str(p) for p in AccountingPeriod.objects.filter(closed_at__isnull=False)]


def test_anonymous_visitors_are_sent_to_the_staff_sign_in(client: Client, chart: None) -> None:
    for page in [*READ_PAGES, "/staff/ledger/periods/close/"]:
        response = client.get(page) if "close" not in page else client.post(page)
        assert response.status_code == 302
        assert response["Location"].startswith("/staff/sign-in/?next=")
    assert closed_periods() == []


def test_citizens_and_staff_without_the_role_are_refused(
    client: Client, chart: None, citizen: User, make_staff: Callable[..., User]
) -> None:
    client.force_login(citizen)
    assert [client.get(page).status_code for page in READ_PAGES] == [403, 403, 403]
    assert client.post("/staff/ledger/periods/close/", {"month": "2026-09"}).status_code == 403
    client.logout()
    sign_in_staff(client, make_staff(["cashier"]))
    assert [client.get(page).status_code for page in READ_PAGES] == [403, 403, 403]
    assert closed_periods() == []


def test_staff_with_ledger_view_read_every_page_but_cannot_close_a_month(
    client: Client, chart: None, make_staff: Callable[..., User]
) -> None:
    sign_in_staff(client, make_staff(["revenue_officer"]))

    assert [client.get(page).status_code for page in READ_PAGES] == [200, 200, 200]
    assert "Close a month" not in client.get("/staff/ledger/periods/").content.decode()
    assert client.post("/staff/ledger/periods/close/", {"month": "2026-09"}).status_code == 403
    assert closed_periods() == []
    assert not AuditEvent.objects.filter(action="ledger.period_closed").exists()


def test_the_trial_balance_page_shows_debits_equal_to_credits(
    client: Client, october: None, make_staff: Callable[..., User]
) -> None:
    sign_in_staff(client, make_staff(["auditor"], department="audit"))

    response = client.get("/staff/ledger/?as_of=2026-10-31")

    html = response.content.decode()
    assertContains(response, "Total debits equal total credits.")
    assert re.search(r'id="total-debit"><strong>2,000.00</strong>', html)
    assert re.search(r'id="total-credit"><strong>2,000.00</strong>', html)
    assertContains(response, "1100 M-Pesa clearing")
    assertContains(response, "1,450.00 Dr")  # 1000 + 600 - 150
    assertContains(response, "1,450.00 Cr")  # suspense
    earlier = client.get("/staff/ledger/?as_of=2026-09-30").content.decode()
    assert re.search(r'id="total-debit"><strong>1,000.00</strong>', earlier)


def test_an_account_statement_shows_each_entry_with_its_running_balance(
    client: Client, october: None, make_staff: Callable[..., User]
) -> None:
    sign_in_staff(client, make_staff(["revenue_officer"]))

    response = client.get("/staff/ledger/accounts/1100/?start=2026-10-01&end=2026-10-31")

    rows = [(row.line.entry.source_ref, row.balance.amount) for row in response.context["rows"]]
    assert rows == [("B", Decimal("1600.00")), ("C", Decimal("1450.00"))]
    assert response.context["opening"].amount == Decimal("1000.00")
    assert response.context["closing"].amount == Decimal("1450.00")
    assertContains(
        response,
        '<td class="govuk-table__cell govuk-table__cell--numeric" id="opening-balance">1,000.00 Dr</td>',
        html=False,
    )
    assert client.get("/staff/ledger/accounts/9999/").status_code == 404


def test_a_statement_page_carries_the_balance_from_the_pages_before(
    client: Client, chart: None, make_staff: Callable[..., User]
) -> None:
    for number in range(1, 106):  # 105 entries of 10.00: the second page starts at 101
        post("1100", "2100", "10.00", f"E{number}", date(2026, 10, 1 + number % 28))
    sign_in_staff(client, make_staff(["revenue_officer"]))

    second = client.get("/staff/ledger/accounts/1100/?start=2026-10-01&end=2026-10-31&page=2")

    balances = [row.balance.amount for row in second.context["rows"]]
    assert balances == [
        Decimal("1010.00"),
        Decimal("1020.00"),
        Decimal("1030.00"),
        Decimal("1040.00"),
        Decimal("1050.00"),
    ]
    assert second.context["closing"].amount == Decimal("1050.00")


def test_a_supervisor_closes_a_month_and_sees_it_listed(
    client: Client, october: None, make_staff: Callable[..., User]
) -> None:
    supervisor = make_staff(["supervisor"])
    sign_in_staff(client, supervisor)

    response = client.post("/staff/ledger/periods/close/", {"month": "2026-09"}, follow=True)

    assertRedirects(response, "/staff/ledger/periods/")
    assert closed_periods() == ["2026-09"]
    event = AuditEvent.objects.get(action="ledger.period_closed")
    assert event.actor_id == supervisor.pk
    assertContains(response, "2026-09 is closed: nothing more can be posted into it.")
    assertContains(response, f"by {supervisor.username}")


def test_the_current_month_cannot_be_closed_and_nothing_changes(
    client: Client, chart: None, make_staff: Callable[..., User]
) -> None:
    sign_in_staff(client, make_staff(["supervisor"]))
    this_month = timezone.localdate().strftime("%Y-%m")

    response = client.post("/staff/ledger/periods/close/", {"month": this_month})

    assert response.status_code == 400
    assertContains(response, "Only a month that has ended can be closed.", status_code=400)
    assert closed_periods() == []
    assert not AuditEvent.objects.filter(action="ledger.period_closed").exists()
