"""A small county for the two-node check and the scale-out benchmark: the reference data,
chart of accounts, price list and catalogue, the officers of a permit's lifecycle, a
revenue officer (password and TOTP, for a staff session), citizens with API keys, and
open bills to pay. Seconds, not the demo data's minute. Django must be set up first."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from bench.applications.lifecycle import Tokens

STAFF_PASSWORD = "scale-out staff password " + "x" * 12


@dataclass(frozen=True)
class County:
    tokens: Tokens
    bills: list[str]
    staff_username: str
    staff_totp_key: str  # hex, as django-otp keeps it
    reports_token: str


def prepare(*, citizens: int = 60, bills: int = 20) -> County:
    from django.core.management import call_command
    from django.db import connection

    from kaunti.accounts.models import User
    from kaunti.accounts.services import create_staff_user, issue_api_token
    from kaunti.core.models import Department, Ward
    from kaunti.core.reference_data import load_reference_data
    from kaunti.eservices.services.catalogue_data import load_catalogue
    from kaunti.ledger.services import load_chart_of_accounts
    from kaunti.payments.services.bills import LineInput, Payer, create_bill
    from kaunti.payments.services.price_list import load_price_list

    call_command("migrate", verbosity=0, interactive=False)
    load_reference_data(county_code="018")
    load_chart_of_accounts()
    load_price_list(county_code="018")
    load_catalogue(county_code="018")

    def staff(name: str, department: str, role: str) -> tuple[str, str]:
        created = create_staff_user(
            username=name,
            full_name=name.replace("-", " ").title(),
            password=STAFF_PASSWORD,
            department=Department.objects.get(code=department),
            roles=[role],
            created_by=None,
        )
        return issue_api_token(user=created.user), created.totp_device.key

    citizen_tokens, usernames = [], []
    for number in range(citizens):
        phone = f"254722{number:06d}"
        citizen = User.objects.create(
            username=phone, phone=phone, kind="citizen", full_name=f"Scale Citizen {number}"
        )
        citizen_tokens.append(issue_api_token(user=citizen))
        usernames.append(phone)
    tokens = Tokens(
        citizens=citizen_tokens,
        citizen_usernames=usernames,
        approvers=[staff(f"trade-approver-{n}", "trade", "approver")[0] for n in range(2)],
        health_inspectors=[
            staff(f"health-inspector-{n}", "health", "inspector")[0] for n in range(2)
        ],
        fire_inspectors=[
            staff(f"fire-inspector-{n}", "public-service", "inspector")[0] for n in range(2)
        ],
    )
    reports_token, totp_key = staff("revenue-officer", "revenue", "revenue_officer")
    trade = Department.objects.get(code="trade")
    wards = list(Ward.objects.all()[:10])
    numbers = [
        create_bill(
            payer=Payer(name=f"Scale Payer {index}", phone="", id_number=str(31_000_000 + index)),
            lines=[LineInput("market-fee", quantity=Decimal(400))],
            department=trade,
            ward=wards[index % len(wards)],
            due_on=date.today() + timedelta(days=30),
            description="Market fees",
            actor=None,
        ).number
        for index in range(bills)
    ]
    connection.close()
    return County(
        tokens=tokens,
        bills=numbers,
        staff_username="revenue-officer",
        staff_totp_key=totp_key,
        reports_token=reports_token,
    )
