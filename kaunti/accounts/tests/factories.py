"""Factories for people: citizens (a row, as a sign-up leaves one) and staff (through
`create_staff_user`, so each has a password, roles in a department and a TOTP device).

Sequences restart at 0 for every test (`kaunti/conftest.py`), so a test's rows are
numbered as if it ran alone.
"""

from typing import Any

import factory
from factory.django import DjangoModelFactory

from kaunti.accounts import services
from kaunti.accounts.models import User, UserKind
from kaunti.core.models import Department

STAFF_PASSWORD = "correct horse battery staple 018"


class CitizenFactory(DjangoModelFactory[User]):
    """A citizen whose username is their phone, as sign-up makes one."""

    class Meta:
        model = User

    phone = factory.Sequence(lambda n: f"2547000{n + 1:05d}")
    username = factory.SelfAttribute("phone")
    kind = UserKind.CITIZEN
    full_name = factory.Sequence(lambda n: f"Citizen {n + 1}")


class StaffFactory(factory.Factory[User]):
    """A staff member with `roles` in the department of code `department` (revenue)."""

    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"staff{n + 1}")
    full_name = factory.Sequence(lambda n: f"Staff Member {n + 1}")
    roles = factory.LazyFunction(list)
    department = "revenue"
    superuser = False

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        return services.create_staff_user(
            username=kwargs["username"],
            full_name=kwargs["full_name"],
            password=STAFF_PASSWORD,
            department=Department.objects.get(code=kwargs["department"]),
            roles=kwargs["roles"],
            created_by=None,
            is_superuser=kwargs["superuser"],
        ).user
