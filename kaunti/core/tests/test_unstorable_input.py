"""A NUL byte (or another character the database cannot store) in a request's path, query
or form is a 400 before any view makes a query of it: never a 500. Callbacks keep theirs."""

from collections.abc import Callable
from datetime import date

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from kaunti.accounts.models import Role, User
from kaunti.accounts.services import issue_api_token
from kaunti.conftest import sign_in_staff
from kaunti.core.middleware import RefuseUnstorableInputMiddleware
from kaunti.core.models import AuditEvent
from kaunti.land.models import ValuationRoll
from kaunti.land.services.roll import create_roll

MakeStaff = Callable[..., User]

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
API_DETAIL = (
    "The request contains a character that cannot be stored, such as a NUL byte. "
    "Remove it and try again."
)


@pytest.fixture
def administrator(make_staff: MakeStaff) -> User:
    """A superuser passes every action check (ADR 14), so each URL reaches its query."""
    return make_staff([Role.ICT_OFFICER], department="ict", superuser=True)


@pytest.fixture
def roll(reference_data: None) -> ValuationRoll:
    return create_roll(name="Valuation roll 2026", valuation_date=date(2026, 1, 1), actor=None)


def api_paths(roll: ValuationRoll) -> list[str]:
    return [
        "/api/v1/bills/%00/",
        "/api/v1/bills/BL2627-000001/?x=%00",
        "/api/v1/bills/?payer=%00",
        "/api/v1/receipts/%00/",
        "/api/v1/receipts/RCT2627-000001/?x=%00",
        "/api/v1/land/parcels/%00/",
        "/api/v1/land/parcels/?q=%00",
        "/api/v1/land/parcels/NYANDARUA-OLKALOU-1001/?x=%00",
        f"/api/v1/land/rolls/{roll.public_id}/entries/?q=%00",
        "/api/v1/services/%00/",
        "/api/v1/applications/%00/",
        "/api/v1/complaints/%00/",
        "/api/v1/land/map/?bbox=%00",
    ]


def page_paths(roll: ValuationRoll) -> list[str]:
    return [
        "/services/?q=%00",
        "/services/%00/",
        "/staff/land/parcels/%00/",
        "/staff/land/parcels/?q=%00",
        f"/staff/land/rolls/{roll.public_id}/?q=%00",
        "/staff/land/map/?parcel=%00",
        "/verify/%00",
        "/account/applications/%00/",
        "/staff/applications/%00/",
    ]


def test_a_nul_byte_in_an_api_path_or_query_is_a_400_problem(
    administrator: User, roll: ValuationRoll
) -> None:
    client = Client(headers={"Authorization": f"Token {issue_api_token(user=administrator)}"})
    for path in api_paths(roll):
        response = client.get(path)

        assert response.status_code == 400, (path, response.status_code)
        assert response["Content-Type"] == PROBLEM, path
        assert response.json() == {
            "type": "about:blank",
            "title": "Bad Request",
            "status": 400,
            "detail": API_DETAIL,
        }, path


def test_a_nul_byte_in_a_page_path_or_query_is_a_400_page_in_both_languages(
    client: Client, administrator: User, roll: ValuationRoll
) -> None:
    sign_in_staff(client, administrator)
    for path in page_paths(roll):
        response = client.get(path)

        assert response.status_code == 400, (path, response.status_code)
        page = response.content.decode()
        english = page.index("The address or form has a character that cannot be used")
        kiswahili = page.index("Anwani au fomu ina herufi isiyoweza kutumika")
        assert english < kiswahili, path  # the caller's language first


def test_a_kiswahili_caller_reads_kiswahili_first(client: Client, reference_data: None) -> None:
    response = client.get("/services/?q=%00", headers={"Accept-Language": "sw"})
    api = client.get("/api/v1/services/?q=%00", headers={"Accept-Language": "sw"})

    assert response.status_code == 400
    page = response.content.decode()
    assert page.index("Anwani au fomu ina herufi") < page.index("The address or form has")
    assert api.status_code == 400
    assert api.json()["detail"] == (
        "Ombi lina herufi isiyoweza kuhifadhiwa, kama baiti ya NUL. Iondoe kisha ujaribu tena."
    )


def test_a_nul_byte_in_a_form_field_is_a_400_and_changes_nothing(
    client: Client, administrator: User, roll: ValuationRoll
) -> None:
    sign_in_staff(client, administrator)
    events = AuditEvent.objects.count()

    response = client.post(
        f"/staff/land/rolls/{roll.public_id}/objections/new/",
        {
            "parcel_number": "NYANDARUA/OL KALOU/\x001001",
            "objector_name": "Wanjiku Kamau",
            "grounds": "Too high",
        },
    )
    public = Client().post("/land/rates-balance/", {"number": "NYANDARUA/OL KALOU/1001\x00"})

    assert response.status_code == 400
    assert public.status_code == 400
    assert AuditEvent.objects.count() == events
    assert ValuationRoll.objects.get().entries.count() == 0


@pytest.mark.parametrize(
    "path",
    [
        "/payments/mpesa/c2b/confirmation/secret/",
        "/payments/paybill/confirmation/secret/",
        "/ussd/africastalking/",
        "/sms/africastalking/inbound/",
        "/sms/africastalking/delivery/",
    ],
)
def test_callbacks_reach_their_views_with_their_nul_bytes(path: str) -> None:
    """Their views store the raw input for review: refusing it here would lose it."""
    seen: list[HttpRequest] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(request)
        return HttpResponse("stored")

    request = RequestFactory().post(f"{path}?token=%00", {"text": "1*\x00"})

    response = RefuseUnstorableInputMiddleware(view)(request)

    assert response.status_code == 200
    assert seen == [request]
    assert request.POST["text"] == "1*\x00"
