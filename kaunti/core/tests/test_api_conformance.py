"""Every operation of the API answers as its OpenAPI schema says: schemathesis generates
valid and invalid requests for each, from an administrator, a citizen and an anonymous
caller, and checks each answer (a documented status code and content type, a body valid
against the schema, never a 5xx)."""

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import schemathesis
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.throttling import SimpleRateThrottle
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kaunti.accounts.models import Role, User
from kaunti.accounts.services import issue_api_token
from kaunti.core.services.jobs import create_job
from kaunti.land.selectors.parcels import url_number
from kaunti.land.services.roll import add_roll_entry, create_roll
from kaunti.land.tests.factories import OwnerFactory, ParcelFactory
from kaunti.ledger.services import load_chart_of_accounts
from kaunti.payments.models import Receipt
from kaunti.payments.services.bills import Payer
from kaunti.payments.services.price_list import load_price_list
from kaunti.payments.tests.factories import BillFactory, PaymentFactory

MakeStaff = Callable[..., User]

# Requests per operation, split at random (but the same every run) between the callers
# and between valid and invalid input: 41 operations x 15 take about 10 s of CPU here.
# `KAUNTI_FUZZ_EXAMPLES=200` runs a deeper search by hand.
EXAMPLES_PER_OPERATION = int(os.environ.get("KAUNTI_FUZZ_EXAMPLES", "15"))

# What every answer must do. Not "valid data is accepted": a request valid by the schema
# may still break a rule the schema cannot say (a bill for a stream that does not exist),
# and the API answers that with its documented 400.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

# Operations left out, each with its reason (none: add one only with a reason).
KNOWN_EXCLUSIONS: dict[str, str] = {}


@dataclass(frozen=True)
class World:
    """The callers' headers, and path parameters that name things that exist."""

    callers: dict[str, dict[str, str]]
    known_paths: dict[str, dict[str, str]]


@pytest.fixture
def world(transactional_db: None, make_staff: MakeStaff, citizen: User) -> World:
    """A little of everything, so that lists and details answer with bodies to check."""
    load_chart_of_accounts()
    load_price_list(county_code=settings.COUNTY_CODE)
    administrator = make_staff([Role.ICT_OFFICER], department="ict", superuser=True)
    bill = BillFactory.create(
        payer=Payer(name="Wanjiku Kamau", phone=citizen.phone or "", user=citizen),
        amount=Decimal(500),
        due_on=date(2030, 1, 1),
    )
    paid = PaymentFactory.create(
        bill=bill,
        amount=Decimal(200),
        external_ref="SKL4TQ8ZPA",
        payer_phone=citizen.phone or "",
        payer_name="Wanjiku Kamau",
    )
    parcel = ParcelFactory.create(
        number="NYANDARUA/OL KALOU/1001",
        owners=[OwnerFactory.create(name="Kamau Mwangi", national_id="20000001")],
    )
    roll = create_roll(name="Valuation roll 2026", valuation_date=date(2026, 1, 1), actor=None)
    add_roll_entry(
        roll=roll,
        parcel=parcel,
        site_value=Decimal(1_000_000),
        valuation_date=date(2026, 1, 1),
        actor=None,
    )
    job = create_job(kind="test", description="A job")
    return World(
        callers={
            "administrator": {"Authorization": f"Token {issue_api_token(user=administrator)}"},
            "citizen": {"Authorization": f"Token {issue_api_token(user=citizen)}"},
            "anonymous": {},
        },
        known_paths={
            "/api/v1/bills/{number}/": {"number": bill.number},
            "/api/v1/receipts/{number}/": {"number": Receipt.objects.get(payment=paid).number},
            "/api/v1/land/parcels/{number}/": {"number": url_number(parcel)},
            "/api/v1/land/parcels/{number}/statement/": {"number": url_number(parcel)},
            "/api/v1/land/rolls/{public_id}/entries/": {"public_id": str(roll.public_id)},
            "/api/v1/jobs/{public_id}/": {"public_id": str(job.public_id)},
        },
    )


@pytest.fixture
def no_rate_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hundreds of requests a minute from one address: the limits would answer 429
    (documented everywhere) instead of the operation under test."""
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": None, "user": None})


@pytest.mark.fuzz
def test_every_operation_answers_as_its_schema_says(world: World, no_rate_limits: None) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
    failures: list[str] = []
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results) == 41  # every operation, each one readable
    for operation in operations:
        if operation.label in KNOWN_EXCLUSIONS:
            continue
        cases = [
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        ]
        if operation.path in world.known_paths:
            known = world.known_paths[operation.path]
            cases.append(operation.as_strategy(path_parameters=known))
        requests = st.tuples(st.sampled_from(sorted(world.callers)), st.one_of(cases))

        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],  # no shrinking: report the first
            suppress_health_check=list(HealthCheck),
        )
        @given(request=requests)
        def answers_as_documented(request: tuple[str, Any]) -> None:
            caller, case = request
            case.call_and_validate(headers=world.callers[caller], checks=CHECKS)

        try:
            answers_as_documented()
        except (AssertionError, BaseExceptionGroup) as failure:  # schemathesis' failures
            failures.append(f"{operation.label}: {failure}")
    assert not failures, "\n\n".join(failures)
