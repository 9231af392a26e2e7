"""The Africa's Talking simulator answers in the gateway's own shapes (reference 2.3, 2.4)."""

import httpx
import pytest

from kaunti.simulators.africastalking import AfricasTalkingSimulator


def post(
    gateway: AfricasTalkingSimulator, form: dict[str, str], *, api_key: str | None = None
) -> httpx.Response:
    return httpx.post(
        f"{gateway.base_url}/version1/messaging",
        data=form,
        headers={
            "apiKey": gateway.api_key if api_key is None else api_key,
            "Accept": "application/json",
        },
        timeout=5,
    )


def test_a_bulk_send_reports_each_recipient_and_the_total_cost(
    at_gateway: AfricasTalkingSimulator,
) -> None:
    at_gateway.set_outcome("254722000222", 405)

    response = post(
        at_gateway,
        {
            "username": "kaunti018",
            "to": "+254712000111,+254722000222",
            "message": "Rates are due on 31 March.",
            "bulkSMSMode": "1",
        },
    )

    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    [accepted] = at_gateway.messages
    assert response.json() == {
        "SMSMessageData": {
            "Message": "Sent to 1/2 Total Cost: KES 0.8000",
            "Recipients": [
                {
                    "statusCode": 101,
                    "number": "+254712000111",
                    "status": "Success",
                    "cost": "KES 0.8000",
                    "messageId": accepted.message_id,
                    "messageParts": 1,
                },
                {
                    "statusCode": 405,
                    "number": "+254722000222",
                    "status": "InsufficientBalance",
                    "cost": "0",
                    "messageId": "None",
                },
            ],
        }
    }


def test_a_long_message_costs_one_part_per_153_characters(
    at_gateway: AfricasTalkingSimulator,
) -> None:
    response = post(
        at_gateway, {"username": "kaunti018", "to": "+254712000111", "message": "x" * 161}
    )

    data = response.json()["SMSMessageData"]
    assert data["Message"] == "Sent to 1/1 Total Cost: KES 1.6000"
    assert data["Recipients"][0]["messageParts"] == 2


def test_a_number_not_in_e164_form_is_an_invalid_phone_number(
    at_gateway: AfricasTalkingSimulator,
) -> None:
    response = post(at_gateway, {"username": "kaunti018", "to": "0712000111", "message": "Hi"})

    assert response.json()["SMSMessageData"] == {
        "Message": "Sent to 0/1 Total Cost: 0",
        "Recipients": [
            {
                "statusCode": 403,
                "number": "0712000111",
                "status": "InvalidPhoneNumber",
                "cost": "0",
                "messageId": "None",
            }
        ],
    }
    assert at_gateway.messages == []


@pytest.mark.parametrize(
    ("username", "api_key"), [("kaunti018", "wrong-key"), ("someone-else", None)]
)
def test_wrong_credentials_get_401_in_plain_text(
    at_gateway: AfricasTalkingSimulator, username: str, api_key: str | None
) -> None:
    response = post(
        at_gateway, {"username": username, "to": "+254712000111", "message": "Hi"}, api_key=api_key
    )

    assert response.status_code == 401
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == "The supplied authentication is invalid"
    assert at_gateway.messages == []


def test_an_http_outcome_answers_the_whole_request(at_gateway: AfricasTalkingSimulator) -> None:
    at_gateway.set_outcome("+254722000222", "http 503")

    response = post(
        at_gateway,
        {"username": "kaunti018", "to": "+254712000111,+254722000222", "message": "Hi"},
    )

    assert (response.status_code, response.text) == (503, "Service Unavailable")
    assert at_gateway.messages == []
    assert [request.status for request in at_gateway.requests] == [503]


def test_a_missing_field_is_a_bad_request(at_gateway: AfricasTalkingSimulator) -> None:
    response = post(at_gateway, {"username": "kaunti018", "to": "+254712000111"})

    assert (response.status_code, response.text) == (
        400,
        "Request is missing required form field 'message'",
    )
    assert at_gateway.messages == []


@pytest.mark.parametrize("outcome", [999, "http 999", "boom", True])
def test_an_outcome_the_gateway_cannot_give_is_refused(
    at_gateway: AfricasTalkingSimulator, outcome: int | str
) -> None:
    with pytest.raises(ValueError, match=r"outcome|status"):
        at_gateway.set_outcome("+254712000111", outcome)


def test_a_delivery_report_has_the_callback_fields(at_gateway: AfricasTalkingSimulator) -> None:
    post(at_gateway, {"username": "kaunti018", "to": "+254712000111", "message": "Hi"})
    [accepted] = at_gateway.messages

    delivered = at_gateway.delivery_report(accepted.message_id)
    rejected = at_gateway.delivery_report(
        accepted.message_id, status="Rejected", failure_reason="UserInBlackList"
    )

    assert delivered == {
        "id": accepted.message_id,
        "status": "Success",
        "phoneNumber": "+254712000111",
        "networkCode": "63902",
    }
    assert rejected == {
        "id": accepted.message_id,
        "status": "Rejected",
        "phoneNumber": "+254712000111",
        "networkCode": "63902",
        "failureReason": "UserInBlackList",
    }


def test_a_failed_delivery_report_needs_a_reason(at_gateway: AfricasTalkingSimulator) -> None:
    post(at_gateway, {"username": "kaunti018", "to": "+254712000111", "message": "Hi"})
    [accepted] = at_gateway.messages

    with pytest.raises(ValueError, match="failure reason"):
        at_gateway.delivery_report(accepted.message_id, status="Failed")


def test_outcomes_can_be_given_up_front() -> None:
    with AfricasTalkingSimulator(username="kaunti018", outcomes={"254712000111": 406}) as gateway:
        response = post(gateway, {"username": "kaunti018", "to": "+254712000111", "message": "Hi"})

    [recipient] = response.json()["SMSMessageData"]["Recipients"]
    assert (recipient["statusCode"], recipient["status"]) == (406, "UserInBlacklist")


def test_a_stopped_simulator_has_no_address() -> None:
    gateway = AfricasTalkingSimulator().start()
    gateway.stop()

    with pytest.raises(RuntimeError, match="start the simulator first"):
        _ = gateway.base_url
