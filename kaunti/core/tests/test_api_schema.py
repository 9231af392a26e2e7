"""The OpenAPI schema says what the API answers; refusals Django makes before a view (a
malformed id) are problem documents too."""

from typing import Any

import pytest
from django.test import Client

from kaunti.accounts.models import Role, User
from kaunti.accounts.services import issue_api_token

PROBLEM = "application/problem+json"

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client: Client) -> dict[str, Any]:
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def ok_schema(schema: dict[str, Any], path: str) -> dict[str, Any]:
    content: dict[str, Any] = schema["paths"][path]["get"]["responses"]["200"]["content"]
    return content["application/json"]["schema"]


def test_a_department_without_a_parent_is_documented_as_null(schema: dict[str, Any]) -> None:
    parent_code = schema["components"]["schemas"]["DepartmentOutput"]["properties"]["parent_code"]

    assert parent_code == {"type": "string", "readOnly": True, "nullable": True}


def test_an_empty_email_is_documented_as_a_plain_string(schema: dict[str, Any]) -> None:
    email = schema["components"]["schemas"]["MeOutput"]["properties"]["email"]

    assert email == {"type": "string", "readOnly": True}


@pytest.mark.parametrize(
    ("path", "page"),
    [
        ("/api/v1/land/parcels/", "PaginatedParcelSummaryOutputList"),
        ("/api/v1/land/rolls/{public_id}/entries/", "PaginatedRollEntryOutputList"),
    ],
)
def test_paginated_lists_are_documented_as_pages(
    schema: dict[str, Any], path: str, page: str
) -> None:
    assert ok_schema(schema, path) == {"$ref": f"#/components/schemas/{page}"}
    assert schema["components"]["schemas"][page]["required"] == ["count", "results"]


def test_a_jobs_refusals_are_documented(schema: dict[str, Any]) -> None:
    responses = schema["paths"]["/api/v1/jobs/{public_id}/"]["get"]["responses"]

    assert sorted(responses) == ["200", "400", "401", "403", "404", "429"]
    for code in ("400", "401", "403", "404", "429"):
        assert list(responses[code]["content"]) == [PROBLEM], code


def test_every_operation_documents_the_refusals_any_request_may_get(
    schema: dict[str, Any],
) -> None:
    operations = [op for ops in schema["paths"].values() for op in ops.values()]

    assert len(operations) == 41
    for operation in operations:
        assert PROBLEM in operation["responses"]["400"]["content"], operation["operationId"]
        assert PROBLEM in operation["responses"]["429"]["content"], operation["operationId"]


@pytest.mark.parametrize("path", ["/api/v1/jobs/not-a-uuid/", "/api/v1/no-such-thing/"])
def test_an_address_no_operation_matches_is_a_404_problem(make_staff: Any, path: str) -> None:
    staff: User = make_staff([Role.ICT_OFFICER], department="ict")
    client = Client(headers={"Authorization": f"Token {issue_api_token(user=staff)}"})

    response = client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "There is nothing at this address.",
        "instance": path,
    }


def test_a_page_that_does_not_exist_is_still_a_page(client: Client, reference_data: None) -> None:
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert "Page not found" in response.content.decode()
