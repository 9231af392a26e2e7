"""A local Africa's Talking SMS gateway that answers `POST /version1/messaging` like the real one.

Our `AfricasTalkingSmsBackend` talks to it over real HTTP, so tests exercise the actual
request, headers and response parsing with no network and no mocks of our own code. The
wire format follows shared/reference/kenya.md, sections 2.3 (sending) and 2.4 (delivery
reports):

- the request is form-encoded: `username`, `to` (comma-separated E.164 numbers),
  `message`, optional `from` and `bulkSMSMode`; the `apiKey` header must match the
  configured key and `username` the configured account, else HTTP 401 with the text
  "The supplied authentication is invalid";
- the answer is HTTP 201 with `SMSMessageData`: a summary `Message` and one entry per
  recipient (`statusCode`, `number`, `status`, `cost`, `messageId`, `messageParts`).

What happens to each number can be scripted (`set_outcome`): a per-recipient status code
(403 InvalidPhoneNumber, 405 InsufficientBalance, 500 InternalServerError, ...), or
`"http 500"` (any HTTP status) to answer the whole request with that status. Every request
and every accepted message is kept for assertions.

    with AfricasTalkingSimulator(username="kaunti", api_key="test-key") as gateway:
        gateway.set_outcome("+254712000111", 403)
        backend = AfricasTalkingSmsBackend(
            username="kaunti", api_key="test-key", base_url=gateway.base_url
        )

Delivery reports (reference 2.4) go the other way: given `delivery_report_url`, the
gateway POSTs a report for a message with `send_delivery_report`, and with
`auto_delivery_status` set (e.g. "Success") it reports every accepted message by itself,
from a background thread, as the real gateway does a moment after accepting it.
`ussd_form` and `inbound_sms_form` build the other two callbacks Africa's Talking makes.

The body of a 400 answer (a missing field) is our approximation; nothing else in the code
depends on it.
"""

import contextlib
import re
import threading
import time
import uuid
from collections.abc import Collection, Mapping
from decimal import Decimal
from http import HTTPStatus
from types import TracebackType
from typing import Self

import httpx

from kaunti.simulators.africastalking.wire import (
    ACCEPTED_CODES,
    DELIVERY_STATUSES,
    FAILED_DELIVERY_STATUSES,
    FAILURE_REASONS,
    INVALID_AUTHENTICATION,
    MESSAGING_PATH,
    SAFARICOM_NETWORK_CODE,
    SENT,
    STATUS_NAMES,
    AcceptedMessage,
    Outcome,
    ReceivedRequest,
    e164,
    message_parts,
    validated_outcome,
)
from kaunti.simulators.http import LocalServer, Reply, Request, json_reply, text_reply

# The number shape the official SDK insists on before sending anything.
_E164 = re.compile(r"^\+[0-9]{4,}$")


class AfricasTalkingSimulator:
    """The gateway on 127.0.0.1 (a free port), served from a background thread.

    `outcomes` maps numbers to what happens to their messages (see `set_outcome`);
    `sender_ids`, when given, lists the registered sender ids, and any other `from` gets
    the gateway's "InvalidSenderId" answer (HTTP 201, no recipients).
    """

    def __init__(
        self,
        *,
        username: str = "sandbox",
        api_key: str = "simulator-api-key",
        outcomes: Mapping[str, Outcome] | None = None,
        sender_ids: Collection[str] | None = None,
        cost_per_part: Decimal = Decimal("0.8000"),
        currency: str = "KES",
        delivery_report_url: str = "",
        auto_delivery_status: str = "",
    ) -> None:
        if auto_delivery_status and auto_delivery_status not in DELIVERY_STATUSES:
            raise ValueError(f"unknown delivery status {auto_delivery_status!r}")
        self.username = username
        # Where delivery reports are POSTed (the application's DLR callback URL).
        self.delivery_report_url = delivery_report_url
        self.auto_delivery_status = auto_delivery_status
        self.auto_delivery_delay = 0.3
        self._report_threads: list[threading.Thread] = []
        self.api_key = api_key
        self.sender_ids = frozenset(sender_ids) if sender_ids is not None else None
        self.cost_per_part = cost_per_part
        self.currency = currency
        # Seconds to wait before answering, to hold a request open while a test acts.
        self.response_delay = 0.0
        self._lock = threading.Lock()
        self._outcomes: dict[str, Outcome] = {}
        self._requests: list[ReceivedRequest] = []
        self._accepted: list[AcceptedMessage] = []
        self._server = LocalServer(self.handle, name="africastalking-simulator")
        for number, outcome in (outcomes or {}).items():
            self.set_outcome(number, outcome)

    # --- Running ----------------------------------------------------------------------

    def start(self) -> Self:
        if self._server.running:
            raise RuntimeError("the simulator is already running")
        self._server.start()
        return self

    def stop(self) -> None:
        for thread in self._report_threads:
            thread.join(timeout=5)
        self._report_threads.clear()
        self._server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """What `AFRICASTALKING_BASE_URL` should be, e.g. `http://127.0.0.1:41234`."""
        if not self._server.running:
            raise RuntimeError("start the simulator first")
        return self._server.base_url

    def set_outcome(self, number: str, outcome: Outcome) -> None:
        """Script what happens to messages for `number` (E.164, "+" optional) from now on."""
        validated = validated_outcome(outcome)
        with self._lock:
            self._outcomes[e164(number)] = validated

    def clear_outcomes(self) -> None:
        with self._lock:
            self._outcomes.clear()

    def reset(self) -> None:
        """Forget outcomes, requests and accepted messages."""
        with self._lock:
            self._outcomes.clear()
            self._requests.clear()
            self._accepted.clear()

    @property
    def requests(self) -> list[ReceivedRequest]:
        """Every request received, in order (refused ones too)."""
        with self._lock:
            return list(self._requests)

    @property
    def messages(self) -> list[AcceptedMessage]:
        """Every message accepted for a number, in order."""
        with self._lock:
            return list(self._accepted)

    def delivery_report(
        self,
        message_id: str,
        *,
        status: str = "Success",
        failure_reason: str = "",
        network_code: str = SAFARICOM_NETWORK_CODE,
    ) -> dict[str, str]:
        """The form fields the gateway POSTs to a delivery-report callback for a message."""
        if status not in DELIVERY_STATUSES:
            raise ValueError(f"unknown delivery status {status!r}")
        if failure_reason and failure_reason not in FAILURE_REASONS:
            raise ValueError(f"unknown failure reason {failure_reason!r}")
        if (status in FAILED_DELIVERY_STATUSES) != bool(failure_reason):
            raise ValueError("a failure reason goes with Rejected or Failed, and only with them")
        accepted = next((m for m in self.messages if m.message_id == message_id), None)
        if accepted is None:
            raise ValueError(f"no message {message_id!r} was accepted")
        report = {
            "id": message_id,
            "status": status,
            "phoneNumber": accepted.number,
            "networkCode": network_code,
        }
        if failure_reason:
            report["failureReason"] = failure_reason
        return report

    def send_delivery_report(
        self, message_id: str, *, status: str = "Success", failure_reason: str = ""
    ) -> int:
        """POST a delivery report for an accepted message to `delivery_report_url`, as a
        form; returns the HTTP status the application answered."""
        if not self.delivery_report_url:
            raise RuntimeError("set delivery_report_url first")
        report = self.delivery_report(message_id, status=status, failure_reason=failure_reason)
        response = httpx.post(self.delivery_report_url, data=report, timeout=10.0)
        return response.status_code

    def wait_for_reports(self, timeout: float = 5.0) -> None:
        """Wait until the automatic delivery reports sent so far have been answered."""
        for thread in list(self._report_threads):
            thread.join(timeout=timeout)

    def _report_later(self, message_id: str) -> None:
        status = self.auto_delivery_status
        failure_reason = "DeliveryFailure" if status in FAILED_DELIVERY_STATUSES else ""

        def report() -> None:
            # The sender stores the message id after our answer reaches it: give it a moment.
            time.sleep(self.auto_delivery_delay)
            # The real gateway gives up on an unreachable callback too.
            with contextlib.suppress(httpx.HTTPError):
                self.send_delivery_report(message_id, status=status, failure_reason=failure_reason)

        thread = threading.Thread(target=report, name="africastalking-dlr", daemon=True)
        self._report_threads.append(thread)
        thread.start()

    # --- The gateway's behaviour ------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        """Decide the answer to one request and record it (the HTTP server calls this).

        Reports due on accepted messages are scheduled before the answer goes out, so that
        a caller who then waits for the reports finds them all (each waits
        `auto_delivery_delay` before it is posted).
        """
        form = request.form() if request.is_form() else {}
        report_ids: tuple[str, ...] = ()
        if request.method != "POST" or request.path != MESSAGING_PATH:
            result = text_reply(HTTPStatus.NOT_FOUND, HTTPStatus.NOT_FOUND.phrase)
        else:
            result, report_ids = self._answer_messaging(headers=request.headers, form=form)
        with self._lock:
            self._requests.append(
                ReceivedRequest(
                    method=request.method,
                    path=request.path,
                    headers=dict(request.headers),
                    form=form,
                    status=result.status,
                )
            )
        if self.response_delay:
            time.sleep(self.response_delay)
        for message_id in report_ids:
            self._report_later(message_id)
        return result

    def _answer_messaging(
        self, *, headers: Mapping[str, str], form: Mapping[str, str]
    ) -> tuple[Reply, tuple[str, ...]]:
        """The answer to a send request, and the accepted messages to report on."""
        if headers.get("apikey") != self.api_key or form.get("username") != self.username:
            return text_reply(HTTPStatus.UNAUTHORIZED, INVALID_AUTHENTICATION), ()
        for field in ("to", "message"):
            if not form.get(field):
                missing = f"Request is missing required form field '{field}'"
                return text_reply(HTTPStatus.BAD_REQUEST, missing), ()
        numbers = [number.strip() for number in form["to"].split(",") if number.strip()]
        with self._lock:
            outcomes = {number: self._outcomes.get(number) for number in numbers}
        for outcome in outcomes.values():
            if isinstance(outcome, str):
                status = HTTPStatus(int(outcome.removeprefix("http ")))
                return text_reply(status, status.phrase), ()
        sender = form.get("from", "")
        if sender and self.sender_ids is not None and sender not in self.sender_ids:
            invalid_sender = {"SMSMessageData": {"Message": "InvalidSenderId", "Recipients": []}}
            return json_reply(HTTPStatus.CREATED, invalid_sender), ()
        parts = message_parts(form["message"])
        report_ids: list[str] = []
        recipients: list[dict[str, object]] = []
        total_cost = Decimal(0)
        accepted_count = 0
        for number in numbers:
            scripted = outcomes[number]
            code = scripted if isinstance(scripted, int) else None
            if code is None:
                code = SENT if _E164.match(number) else 403
            if code in ACCEPTED_CODES:
                cost = self.cost_per_part * parts
                message_id = f"ATXid_{uuid.uuid4().hex}"
                recipients.append(
                    {
                        "statusCode": code,
                        "number": number,
                        "status": "Success",
                        "cost": f"{self.currency} {cost:.4f}",
                        "messageId": message_id,
                        "messageParts": parts,
                    }
                )
                total_cost += cost
                accepted_count += 1
                with self._lock:
                    self._accepted.append(
                        AcceptedMessage(
                            message_id=message_id,
                            number=number,
                            message=form["message"],
                            sender=sender,
                            username=form["username"],
                            status_code=code,
                        )
                    )
                if self.auto_delivery_status and self.delivery_report_url:
                    report_ids.append(message_id)
            else:
                recipients.append(
                    {
                        "statusCode": code,
                        "number": number,
                        "status": STATUS_NAMES[code],
                        "cost": "0",
                        "messageId": "None",
                    }
                )
        total = f"{self.currency} {total_cost:.4f}" if accepted_count else "0"
        summary = f"Sent to {accepted_count}/{len(numbers)} Total Cost: {total}"
        answer = json_reply(
            HTTPStatus.CREATED,
            {"SMSMessageData": {"Message": summary, "Recipients": recipients}},
        )
        return answer, tuple(report_ids)
