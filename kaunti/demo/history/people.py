"""The invented people of the demo history: residents who pay and apply, businesses and
co-operatives, and the county staff whose work the history shows.

Every name is made up by pairing common Nyandarua first names and surnames at random;
any resemblance to a real person is chance. Phone numbers are random too, which is why
the history's SMS never reach a gateway (see `loader.sms_stays_local`).
"""

import random
import secrets
from dataclasses import dataclass, field

from django.conf import settings

from kaunti.accounts.models import RoleAssignment, User
from kaunti.accounts.services import create_staff_user, get_or_register_citizen_by_phone
from kaunti.core.models import Department

FIRST_NAMES = (
    "Wanjiru", "Njeri", "Wambui", "Wairimu", "Nyambura", "Wanjiku", "Muthoni", "Waithira",
    "Njoki", "Wangari", "Gathoni", "Wacera", "Nduta", "Mumbi", "Wangui", "Mwihaki",
    "Kamau", "Njoroge", "Mwangi", "Kariuki", "Githinji", "Ndungu", "Maina", "Kinyua",
    "Gitau", "Waweru", "Mugo", "Macharia", "Kimani", "Ngugi", "Muriuki", "Wachira",
    "Grace", "Mary", "Jane", "Lucy", "Esther", "Ann", "Joseph", "Peter", "John", "Samuel",
    "David", "James", "Stephen", "Francis", "Catherine", "Faith", "Paul", "Daniel",
)  # fmt: skip
SURNAMES = (
    "Kamau", "Njoroge", "Mwangi", "Kariuki", "Githinji", "Ndungu", "Maina", "Kinyua",
    "Gitau", "Waweru", "Mugo", "Macharia", "Kimani", "Ngugi", "Muriuki", "Wachira",
    "Kiarie", "Gachanja", "Mbugua", "Ngari", "Nderitu", "Muchiri", "Wahome", "Karanja",
    "Kagwe", "Gichuki", "Mathenge", "Njuguna", "Kibe", "Thuku", "Kuria", "Gakuru",
)  # fmt: skip
BUSINESS_WORDS = (
    "Agrovet", "Hardware", "General Stores", "Butchery", "Hotel", "Wines and Spirits",
    "Salon", "Chemist", "Supermarket", "Posho Mill", "Electronics", "Boutique",
)  # fmt: skip
CO_OPERATIVES = (
    "Kinangop Dairy Farmers Co-operative",
    "Ol Kalou Potato Growers Co-operative",
    "Ndaragwa Dairy Co-operative",
    "Kipipiri Farmers Co-operative",
    "Geta Potato Traders Sacco",
    "Njabini Milk Producers",
    "Shamata Farmers Co-operative",
    "Wanjohi Produce Traders",
)
# Staff the history needs beyond the demo sign-ins: their accounts get a random password
# nobody is told, so they appear in the history but cannot sign in.
CASHIERS = (("Beatrice", "Wanjohi"), ("Dennis", "Kinuthia"))


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"


def phone_number(rng: random.Random) -> str:
    return f"2547{rng.choice('0129')}{rng.randrange(10_000_000):07d}"


def national_id(rng: random.Random) -> str:
    return str(rng.randrange(20_000_000, 39_999_999))


def kra_pin(rng: random.Random) -> str:
    return f"A{rng.randrange(10**9):09d}{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}"


def business_name(rng: random.Random, town: str) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(BUSINESS_WORDS)}, {town}"


@dataclass
class Citizens:
    """The residents who use the portal, registered as they first appear."""

    rng: random.Random
    pool: list[User] = field(default_factory=list)

    def new(self, language: str = "en") -> User:
        for _attempt in range(20):
            phone = phone_number(self.rng)
            name = person_name(self.rng)
            if not User.objects.filter(phone=phone).exists():
                user = get_or_register_citizen_by_phone(
                    phone=phone,
                    full_name=name,
                    language=language,
                    notice_version=settings.PRIVACY_NOTICE_VERSION,
                    channel="ussd" if self.rng.random() < 0.4 else "web",
                )
                self.pool.append(user)
                return user
        raise RuntimeError("no free phone number drawn in 20 tries")

    def any(self, *, fresh: float = 0.35) -> User:
        """A returning resident, or now and then a new one."""
        if not self.pool or self.rng.random() < fresh:
            return self.new(language="sw" if self.rng.random() < 0.3 else "en")
        return self.rng.choice(self.pool)


@dataclass
class Staff:
    """County staff by role and department: a demo sign-in holding the role there if there
    is one (so the demo's people see their own past work), else a history colleague."""

    rng: random.Random
    _by_key: dict[tuple[str, str, int], User] = field(default_factory=dict)
    _taken: set[str] = field(default_factory=set)

    def holding(self, role: str, department: Department, *, nth: int = 0) -> User:
        key = (role, department.code, nth)
        if key in self._by_key:
            return self._by_key[key]
        existing = [
            assignment.user
            for assignment in RoleAssignment.objects.filter(
                role=role, department=department, user__is_active=True
            )
            .select_related("user")
            .order_by("user__username")
        ]
        user = existing[nth] if len(existing) > nth else self.new(role, department)
        self._by_key[key] = user
        return user

    def new(self, role: str, department: Department, name: tuple[str, str] | None = None) -> User:
        for _attempt in range(50):
            first, last = name or (self.rng.choice(FIRST_NAMES), self.rng.choice(SURNAMES))
            username = f"{first}.{last}".lower()
            if username not in self._taken and not User.objects.filter(username=username).exists():
                break
            name = None
        else:
            raise RuntimeError("no free staff username drawn in 50 tries")
        self._taken.add(username)
        return create_staff_user(
            username=username,
            full_name=f"{first} {last}",
            password=secrets.token_urlsafe(24),  # nobody is told: history only
            department=department,
            roles=[role],
            created_by=None,
        ).user
