from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from kaunti.accounts.demo import DEMO_CITIZEN_PHONE, load_demo_people
from kaunti.accounts.models import User
from kaunti.core.identifiers import as_e164
from kaunti.core.models import Department, Ward
from kaunti.demo.history import DEFAULT_PAYMENTS, load_history
from kaunti.land.demo import load_land_demo
from kaunti.ledger.services import load_chart_of_accounts
from kaunti.payments.models import Bill
from kaunti.payments.services.bills import LineInput, Payer, create_bill
from kaunti.payments.services.price_list import load_price_list


class Command(BaseCommand):
    help = "Load the demo deployment: reference data, staff per role, a citizen, the price list, bills."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-history",
            action="store_true",
            help="Skip the year of demo history (payments, applications, complaints).",
        )
        parser.add_argument(
            "--history-payments",
            type=int,
            default=DEFAULT_PAYMENTS,
            help=f"About how many payments the history holds (default {DEFAULT_PAYMENTS}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("load_reference_data", stdout=self.stdout)
        sign_ins = load_demo_people()
        load_chart_of_accounts()
        streams = load_price_list(county_code=settings.COUNTY_CODE)
        self.stdout.write(f"Price list: {streams} revenue streams.")
        call_command("load_catalogue", stdout=self.stdout)
        citizen = User.objects.get(phone=DEMO_CITIZEN_PHONE)
        if not Bill.objects.filter(payer_user=citizen).exists():
            create_bill(
                payer=Payer(
                    name=citizen.full_name,
                    phone=citizen.phone or "",
                    id_number=citizen.national_id,
                    user=citizen,
                ),
                lines=[
                    LineInput(
                        "market-fee", quantity=Decimal(30), description="Ol Kalou market, 30 days"
                    )
                ],
                department=Department.objects.get(code="trade"),
                ward=Ward.objects.get(code="0453"),
                due_on=timezone.localdate() + timedelta(days=14),
                description="Market entry fees",
                actor=None,
            )
        bills = ", ".join(Bill.objects.filter(payer_user=citizen).values_list("number", flat=True))
        land = load_land_demo()
        self.stdout.write(
            f"Land: {land.parcels} parcels near Ol Kalou, the 2000 roll in force, rating terms "
            f"for {land.financial_year}/{(land.financial_year + 1) % 100:02d}; bill them at "
            "/staff/land/billing/ and import kaunti/land/data/demo_roll_2026.csv as a new roll."
        )
        if not options["no_history"]:
            self._load_history(payments=options["history_payments"])

        self.stdout.write("")
        self.stdout.write("Demo sign-ins (staff: /staff/sign-in/, then the TOTP code;")
        self.stdout.write(
            "  `.venv/bin/python manage.py demo_totp <username>` prints a current code):"
        )
        width = max(len(s.username) for s in sign_ins)
        for s in sign_ins:
            self.stdout.write(
                f"  {s.username:<{width}}  password {s.password}  TOTP secret {s.totp_secret}  ({s.roles})"
            )
        sms = "the console" if settings.SMS_BACKEND == "console" else settings.SMS_FILE_PATH
        self.stdout.write(
            f"Demo citizen: sign in at /account/sign-in/ with {as_e164(DEMO_CITIZEN_PHONE)}; codes go to {sms}."
        )
        self.stdout.write(
            f"Demo citizen's bills (pay with M-Pesa paybill {settings.MPESA_SHORTCODE}): {bills}"
        )

    def _load_history(self, *, payments: int) -> None:
        self.stdout.write("History: loading a year of payments, applications and complaints...")
        summary = load_history(payments=payments)
        if not summary.loaded:
            self.stdout.write(f"History: not loaded ({summary.reason}).")
            return
        self.stdout.write(
            f"History: {summary.payments} payments on {summary.bills} bills, "
            f"{summary.cancelled_receipts} receipts cancelled, "
            f"{sum(summary.applications.values())} applications, "
            f"{sum(summary.complaints.values())} complaints, in {summary.seconds:.0f} s; "
            "its SMS went to var/demo-history-sms.jsonl."
        )
