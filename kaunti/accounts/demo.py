"""Demo data for a first look at a county deployment: staff (one per role) and a citizen.

Idempotent: people that exist are left alone. Staff passwords are generated on first
creation and kept in `var/demo-sign-ins.json` (outside the repository) so later runs can
print them again; TOTP secrets are read from the devices.
"""

import base64
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from kaunti.accounts import services
from kaunti.accounts.models import PrivacyConsent, Role, User, UserKind
from kaunti.core.models import Department

DEMO_STAFF = [
    # username, full name, department, roles, superuser
    ("revenue.officer", "Grace Wairimu", "revenue", [Role.REVENUE_OFFICER], False),
    ("cashier", "Peter Mwangi", "revenue", [Role.CASHIER], False),
    ("revenue.supervisor", "Lucy Njeri", "revenue", [Role.SUPERVISOR], False),
    ("approver", "John Kariuki", "trade", [Role.APPROVER], False),
    ("inspector", "Mary Wanjiru", "health", [Role.INSPECTOR], False),
    # Every step of every demo service has someone who may act on it (the catalogue's
    # departments), and inspections and approvals of one application are different
    # people (separation of duties): `test_demo_services` walks each service with these.
    ("fire.inspector", "Daniel Kamau", "public-service", [Role.INSPECTOR], False),
    ("compliance.inspector", "Faith Wanjiku", "enforcement", [Role.INSPECTOR], False),
    ("health.approver", "Alice Nyambura", "health", [Role.APPROVER], False),
    ("planning.approver", "David Maina", "lands", [Role.APPROVER], False),
    ("planning.inspector", "Ruth Wangui", "lands", [Role.INSPECTOR], False),
    ("works.approver", "Francis Ndungu", "public-works", [Role.APPROVER], False),
    ("vet.inspector", "Stephen Kimani", "agriculture", [Role.INSPECTOR], False),
    ("livestock.approver", "Jane Nduta", "agriculture", [Role.APPROVER], False),
    ("ict.officer", "Samuel Gitau", "ict", [Role.ICT_OFFICER], False),
    ("auditor", "Ann Muthoni", "audit", [Role.AUDITOR], False),
    ("land.officer", "Joseph Ndirangu", "lands", [Role.LAND_OFFICER], False),
    ("lands.supervisor", "Esther Wambui", "lands", [Role.SUPERVISOR], False),
    ("admin", "ICT Administrator", "ict", [Role.ICT_OFFICER], True),
]
# Roles the demo staff hold beyond their own department's. The Revenue Directorate's
# officers collect the fees of the departments whose price-list items are billed at the
# point of service (market fees, hawkers and weights and measures for Trade; cess, livestock
# movement and machinery hire for Agriculture; house rent for Public Works): without
# these, "Raise a bill" offers the demo revenue officer nothing.
DEMO_EXTRA_ROLES = [
    # username, department, role
    ("revenue.officer", "trade", Role.REVENUE_OFFICER),
    ("revenue.officer", "agriculture", Role.REVENUE_OFFICER),
    ("revenue.officer", "public-works", Role.REVENUE_OFFICER),
]
DEMO_CITIZEN_PHONE = "254712345678"
DEMO_CITIZEN_NAME = "Wanjiku Kamau"


@dataclass(frozen=True)
class DemoSignIn:
    username: str
    roles: str
    password: str
    totp_secret: str


def _credentials_file() -> Path:
    return Path(settings.VAR_DIR) / "demo-sign-ins.json"


def _base32(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode().rstrip("=")


@transaction.atomic
def load_demo_people() -> list[DemoSignIn]:
    """Create the demo staff and citizen if missing; return every staff sign-in."""
    path = _credentials_file()
    passwords: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    sign_ins = []
    for username, full_name, department_code, roles, is_superuser in DEMO_STAFF:
        user = User.objects.filter(username=username).first()
        if user is None:
            password = "Demo-" + secrets.token_urlsafe(9)
            created = services.create_staff_user(
                username=username,
                full_name=full_name,
                password=password,
                department=Department.objects.get(code=department_code),
                roles=[str(role) for role in roles],
                created_by=None,
                is_superuser=is_superuser,
            )
            user = created.user
            passwords[username] = password
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        department_name = Department.objects.get(code=department_code).name
        sign_ins.append(
            DemoSignIn(
                username=username,
                roles=", ".join(str(role.label) for role in roles)
                + f", {department_name}"
                + (" (superuser)" if is_superuser else ""),
                password=passwords.get(username, "(set before this file was kept)"),
                totp_secret=_base32(device) if device else "",
            )
        )
    path.write_text(json.dumps(passwords, indent=2))
    for username, department_code, role in DEMO_EXTRA_ROLES:
        services.assign_role(
            user=User.objects.get(username=username),
            department=Department.objects.get(code=department_code),
            role=str(role),
            granted_by=None,
        )

    if not User.objects.filter(phone=DEMO_CITIZEN_PHONE).exists():
        citizen = User(
            username=DEMO_CITIZEN_PHONE,
            phone=DEMO_CITIZEN_PHONE,
            kind=UserKind.CITIZEN,
            full_name=DEMO_CITIZEN_NAME,
            national_id="12345678",
        )
        citizen.set_unusable_password()
        citizen.save()
        PrivacyConsent.objects.create(
            user=citizen,
            notice_version=settings.PRIVACY_NOTICE_VERSION,
            given_at=timezone.now(),
            channel="demo",
        )
    return sign_ins
