"""Africa's Talking's SMS wire facts (reference 2.3 and 2.4): the path, the per-recipient
status codes and delivery statuses, how a message is counted in parts, and what the
gateway records of each request and accepted message."""

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus

MESSAGING_PATH = "/version1/messaging"


INVALID_AUTHENTICATION = "The supplied authentication is invalid"


# Per-recipient status codes (reference 2.3). 100-102 mean accepted; their `status` reads
# "Success", the others carry their name.
STATUS_NAMES: Mapping[int, str] = {
    100: "Processed",
    101: "Sent",
    102: "Queued",
    401: "RiskHold",
    402: "InvalidSenderId",
    403: "InvalidPhoneNumber",
    404: "UnsupportedNumberType",
    405: "InsufficientBalance",
    406: "UserInBlacklist",
    407: "CouldNotRoute",
    409: "DoNotDisturbRejection",
    500: "InternalServerError",
    501: "GatewayError",
    502: "RejectedByGateway",
}


ACCEPTED_CODES = frozenset({100, 101, 102})


SENT = 101


# Delivery reports (reference 2.4): the statuses and the reasons given for final failures.
DELIVERY_STATUSES = frozenset({"Sent", "Submitted", "Buffered", "Rejected", "Success", "Failed"})


FAILED_DELIVERY_STATUSES = frozenset({"Rejected", "Failed"})


FAILURE_REASONS = frozenset(
    {
        "InsufficientCredit",
        "InvalidLinkId",
        "UserIsInactive",
        "UserInBlackList",
        "UserAccountSuspended",
        "NotNetworkSubscriber",
        "UserNotSubscribedToProduct",
        "UserDoesNotExist",
        "DeliveryFailure",
    }
)


SAFARICOM_NETWORK_CODE = "63902"


HTTP_OUTCOME = re.compile(r"^http ([1-5][0-9][0-9])$")


# GSM-7: one part holds 160 characters; a long message is split into parts of 153.
SINGLE_PART = 160


MULTI_PART = 153


# A recipient's scripted outcome: a per-recipient `statusCode`, or "http <status>" to answer
# the whole request with that HTTP status.
Outcome = int | str


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as the gateway saw it (header names lower-cased) and the status it got."""

    method: str
    path: str
    headers: Mapping[str, str]
    form: Mapping[str, str]
    status: int


@dataclass(frozen=True)
class AcceptedMessage:
    """One message the gateway accepted for one number."""

    message_id: str
    number: str
    message: str
    sender: str
    username: str
    status_code: int


def validated_outcome(outcome: Outcome) -> Outcome:
    if isinstance(outcome, bool):
        raise ValueError(f"not an outcome: {outcome!r}")
    if isinstance(outcome, int):
        if outcome not in STATUS_NAMES:
            raise ValueError(f"unknown Africa's Talking status code {outcome}")
        return outcome
    match = HTTP_OUTCOME.match(outcome)
    if match is None:
        raise ValueError(f'not an outcome: {outcome!r} (use a status code or "http 500")')
    HTTPStatus(int(match.group(1)))  # refuses a status HTTP does not define
    return outcome


def e164(number: str) -> str:
    return number if number.startswith("+") else f"+{number}"


def message_parts(message: str) -> int:
    """How many SMS parts a message costs (GSM-7 lengths)."""
    if len(message) <= SINGLE_PART:
        return 1
    return math.ceil(len(message) / MULTI_PART)
