"""The simulator's memory and moving parts: tokens, pushes and their scripts, C2B URLs, and
callbacks delivered on background threads.

One lock (a condition, so tests can wait for deliveries) guards everything; records are
frozen and replaced, never edited, so a snapshot handed out stays true. Callbacks are
POSTed once with a timeout and never retried, as Safaricom does, unless the script says
"twice" (shared/reference/kenya.md 1.4.1, 1.5.2, 1.8 and 1.9).
"""

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final
from zoneinfo import ZoneInfo

import httpx

from kaunti.simulators.daraja import ids
from kaunti.simulators.daraja.config import (
    DeliveryMode,
    MsisdnMode,
    Outcome,
    Script,
    SimulatorConfig,
)
from kaunti.simulators.daraja.records import (
    C2BRegistration,
    C2BResult,
    CallbackDelivery,
    DeliveryKind,
    Push,
    RecordedRequest,
    stk_callback_body,
    stk_message,
)

logger = logging.getLogger(__name__)

NAIROBI: Final = ZoneInfo("Africa/Nairobi")
MAX_MESSAGES_PER_PHONE: Final = 20
# (first, middle, last) names for C2B payloads, picked by number so a phone keeps its name.
_CUSTOMER_NAMES: Final = (
    ("Wanjiku", "Njeri", "Kamau"),
    ("Otieno", "", "Odhiambo"),
    ("Kiprono", "", "Langat"),
    ("Achieng", "Akinyi", "Ouma"),
    ("John", "", "Doe"),
)


class SubscriberLocked(Exception):
    """The phone still shows a prompt; Safaricom refuses a second push to it."""


def _now() -> datetime:
    return datetime.now(NAIROBI)


class SimulatorState:
    """Everything the simulator remembers, and the operations its endpoints perform."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._tokens: dict[str, float] = {}
        self._pushes: dict[str, Push] = {}
        self._scripts: dict[str, Script] = {}
        self._default_script = config.script
        self._registrations: dict[str, C2BRegistration] = {}
        self._balances: dict[str, Decimal] = {}
        self._deliveries: list[CallbackDelivery] = []
        self._requests: list[RecordedRequest] = []
        self._messages: dict[str, list[str]] = {}

    # --- OAuth ------------------------------------------------------------------------

    def issue_token(self) -> tuple[str, int]:
        """A new token and its `expires_in` (one second short, as Safaricom's "3599")."""
        token = ids.access_token()
        lifetime = self.config.token_lifetime_seconds
        with self._changed:
            self._tokens[token] = time.monotonic() + lifetime
        return token, lifetime - 1

    def token_is_valid(self, token: str) -> bool:
        with self._changed:
            expires_at = self._tokens.get(token)
        return expires_at is not None and expires_at > time.monotonic()

    def expire_tokens(self) -> None:
        """Every issued token stops working, as if an hour had passed."""
        with self._changed:
            self._tokens.clear()

    # --- Scripts ------------------------------------------------------------------------

    def set_script(self, script: Script, *, msisdn: str | None = None) -> None:
        """Script every later push to `msisdn`, or the default for all phones when None."""
        with self._changed:
            if msisdn is None:
                self._default_script = script
            else:
                self._scripts[msisdn] = script

    def scripts(self) -> tuple[Script, dict[str, Script]]:
        with self._changed:
            return self._default_script, dict(self._scripts)

    # --- STK push -----------------------------------------------------------------------

    def create_push(
        self,
        *,
        msisdn: str,
        amount: int,
        account_reference: str,
        description: str,
        callback_url: str,
        shortcode: str,
    ) -> Push:
        """Record an accepted push; `start_processing` then plays its script."""
        now = _now()
        with self._changed:
            if self.config.lock_subscriber_while_prompted and any(
                push.msisdn == msisdn and push.is_pending and push.script.outcome is Outcome.PHONE
                for push in self._pushes.values()
            ):
                raise SubscriberLocked(msisdn)
            checkout_request_id = ids.checkout_request_id(msisdn=msisdn, at=now)
            while checkout_request_id in self._pushes:  # two pushes in one millisecond
                now += timedelta(milliseconds=1)
                checkout_request_id = ids.checkout_request_id(msisdn=msisdn, at=now)
            push = Push(
                merchant_request_id=ids.merchant_request_id(),
                checkout_request_id=checkout_request_id,
                msisdn=msisdn,
                amount=amount,
                account_reference=account_reference,
                description=description,
                callback_url=callback_url,
                shortcode=shortcode,
                script=self._scripts.get(msisdn, self._default_script),
                requested_at=now,
            )
            self._pushes[checkout_request_id] = push
            self._changed.notify_all()
        return push

    def start_processing(self, checkout_request_id: str) -> None:
        """Play a push's script: wait for a person, or end it after `processing_seconds`."""
        push = self.push(checkout_request_id)
        if push is None:
            return
        if push.script.outcome is Outcome.PHONE:
            timeout = self.config.prompt_timeout_seconds
            if timeout is not None:
                self._in_background(
                    lambda: self.resolve(checkout_request_id, Outcome.UNREACHABLE), delay=timeout
                )
            return
        outcome = push.script.outcome
        if self.config.processing_seconds > 0:
            self._in_background(
                lambda: self.resolve(checkout_request_id, outcome),
                delay=self.config.processing_seconds,
            )
        else:
            self.resolve(checkout_request_id, outcome)

    def resolve(self, checkout_request_id: str, outcome: Outcome) -> bool:
        """End a pending push with `outcome` and deliver its callback as scripted.

        Returns False when the push is unknown or already ended (a second answer is ignored).
        """
        now = _now()
        with self._changed:
            push = self._pushes.get(checkout_request_id)
            if push is None or not push.is_pending:
                return False
            push = replace(
                push,
                result_code=int(outcome.result_code),
                result_desc=outcome.result_desc,
                receipt_number=ids.receipt_number(at=now) if outcome is Outcome.SUCCESS else "",
                resolved_at=now,
            )
            self._pushes[checkout_request_id] = push
            self._add_message(push.msisdn, stk_message(push))
            self._changed.notify_all()
        body = stk_callback_body(push)
        script = push.script
        if script.delivery is DeliveryMode.NEVER:
            return True
        times = 2 if script.delivery is DeliveryMode.TWICE else 1
        delay = script.delay_seconds if script.delivery is DeliveryMode.LATE else 0.0

        def deliver() -> None:
            for _ in range(times):
                self._deliver(DeliveryKind.STK_CALLBACK, push.callback_url, body)

        self._in_background(deliver, delay=delay)
        return True

    def push(self, checkout_request_id: str) -> Push | None:
        with self._changed:
            return self._pushes.get(checkout_request_id)

    def pushes(self) -> list[Push]:
        with self._changed:
            return list(self._pushes.values())

    def pending_prompts(self, msisdn: str) -> list[Push]:
        """Prompts waiting for a person on this phone, oldest first."""
        with self._changed:
            return [
                push
                for push in self._pushes.values()
                if push.msisdn == msisdn
                and push.is_pending
                and push.script.outcome is Outcome.PHONE
            ]

    # --- C2B ----------------------------------------------------------------------------

    def register_c2b(self, registration: C2BRegistration) -> None:
        with self._changed:
            self._registrations[registration.shortcode] = registration

    def registration(self, shortcode: str) -> C2BRegistration | None:
        with self._changed:
            return self._registrations.get(shortcode)

    def registrations(self) -> list[C2BRegistration]:
        with self._changed:
            return list(self._registrations.values())

    def pay_bill(
        self,
        *,
        msisdn: str,
        shortcode: str,
        amount: int,
        account: str,
        command_id: str = "CustomerPayBillOnline",
    ) -> C2BResult:
        """A customer pays the paybill: validation (when enabled), then confirmation.

        Runs in the caller's thread. When the validation URL does not answer properly, the
        registered ResponseType decides: Completed goes on, Cancelled stops.
        """
        registration = self.registration(shortcode)
        if registration is None:
            raise LookupError(f"no C2B URLs are registered for shortcode {shortcode}")
        now = _now()
        trans_id = ids.receipt_number(at=now)
        payload: dict[str, object] = {
            "TransactionType": "Buy Goods"
            if command_id == "CustomerBuyGoodsOnline"
            else "Pay Bill",
            "TransID": trans_id,
            "TransTime": now.strftime("%Y%m%d%H%M%S"),
            "TransAmount": f"{amount}.00",
            "BusinessShortCode": shortcode,
            "BillRefNumber": account,
            "InvoiceNumber": "",
            "OrgAccountBalance": "",
            "ThirdPartyTransID": "",
            "MSISDN": self._payload_msisdn(msisdn),
        }
        first, middle, last = _CUSTOMER_NAMES[int(msisdn) % len(_CUSTOMER_NAMES)]
        payload.update({"FirstName": first, "MiddleName": middle, "LastName": last})
        accepted, detail, third_party_trans_id = True, "Accepted", ""
        if self.config.validation:
            validation = self._deliver(
                DeliveryKind.C2B_VALIDATION, registration.validation_url, json.dumps(payload)
            )
            accepted, detail, third_party_trans_id = _validation_decision(
                validation, registration.response_type
            )
        if not accepted:
            self._add_message(
                msisdn,
                f"Failed. Ksh{amount:,}.00 to {shortcode} for account {account} "
                f"was not accepted ({detail}).",
            )
            return C2BResult(trans_id=trans_id, accepted=False, detail=detail)
        with self._changed:
            balance = self._balances.get(shortcode, Decimal("0.00")) + amount
            self._balances[shortcode] = balance
        payload["OrgAccountBalance"] = f"{balance:.2f}"
        payload["ThirdPartyTransID"] = third_party_trans_id
        self._deliver(
            DeliveryKind.C2B_CONFIRMATION, registration.confirmation_url, json.dumps(payload)
        )
        self._add_message(
            msisdn,
            f"{trans_id} Confirmed. Ksh{amount:,}.00 sent to {shortcode} for account "
            f"{account} on {now:%d/%m/%y at %H:%M}.",
        )
        return C2BResult(trans_id=trans_id, accepted=True, detail=detail)

    def pay_bill_in_background(
        self, *, msisdn: str, shortcode: str, amount: int, account: str, command_id: str
    ) -> None:
        """As `pay_bill`, after the simulate call has been answered (Safaricom is async)."""

        def work() -> None:
            result = self.pay_bill(
                msisdn=msisdn,
                shortcode=shortcode,
                amount=amount,
                account=account,
                command_id=command_id,
            )
            logger.info("C2B %s: %s", result.trans_id, result.detail)

        self._in_background(work)

    def _payload_msisdn(self, msisdn: str) -> str:
        if self.config.msisdn_mode is MsisdnMode.HASHED:
            return hashlib.sha256(msisdn.encode()).hexdigest()
        if self.config.msisdn_mode is MsisdnMode.MASKED:
            return f"{msisdn[:4]} ***** {msisdn[-3:]}"
        return msisdn

    # --- Deliveries, messages, request log ------------------------------------------------

    def deliveries(self, kind: DeliveryKind | None = None) -> list[CallbackDelivery]:
        with self._changed:
            return [d for d in self._deliveries if kind is None or d.kind is kind]

    def wait_for_deliveries(
        self, count: int, *, timeout: float = 5.0, kind: DeliveryKind | None = None
    ) -> list[CallbackDelivery]:
        """Block until at least `count` deliveries (of `kind`) were made; TimeoutError if not."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [d for d in self._deliveries if kind is None or d.kind is kind]
                remaining = deadline - time.monotonic()
                if len(found) >= count or remaining <= 0:
                    break
                self._changed.wait(remaining)
        if len(found) < count:
            raise TimeoutError(f"{len(found)} of {count} deliveries made within {timeout} s")
        return found

    def messages(self, msisdn: str) -> list[str]:
        """What the phone's M-Pesa inbox shows, newest first."""
        with self._changed:
            return list(self._messages.get(msisdn, []))

    def _add_message(self, msisdn: str, text: str) -> None:
        with self._changed:
            inbox = self._messages.setdefault(msisdn, [])
            inbox.insert(0, text)
            del inbox[MAX_MESSAGES_PER_PHONE:]

    def record_request(
        self, method: str, path: str, status: int, body: dict[str, object] | None = None
    ) -> None:
        with self._changed:
            self._requests.append(
                RecordedRequest(method=method, path=path, status=status, body=body)
            )

    def requests(self, path: str | None = None) -> list[RecordedRequest]:
        with self._changed:
            return [r for r in self._requests if path is None or r.path == path]

    # --- Lifecycle ------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the state at start: no tokens, pushes, scripts, URLs or deliveries."""
        with self._changed:
            self._tokens.clear()
            self._pushes.clear()
            self._scripts.clear()
            self._default_script = self.config.script
            self._registrations.clear()
            self._balances.clear()
            self._deliveries.clear()
            self._requests.clear()
            self._messages.clear()
            self._changed.notify_all()

    def shutdown(self) -> None:
        """Late deliveries and prompt timeouts still waiting are dropped."""
        self._stopping.set()

    def _in_background(self, work: Callable[[], object], *, delay: float = 0.0) -> None:
        def run() -> None:
            if delay > 0 and self._stopping.wait(delay):
                return
            try:
                work()
            except Exception:  # a background thread must report any failure, not vanish
                logger.exception("Daraja simulator background work failed")

        threading.Thread(target=run, name="daraja-simulator-work", daemon=True).start()

    def _deliver(self, kind: DeliveryKind, url: str, body: str) -> CallbackDelivery:
        status: int | None = None
        response, error = "", ""
        try:
            # trust_env=False: a developer's proxy settings must not swallow local callbacks.
            with httpx.Client(
                timeout=self.config.callback_timeout_seconds, trust_env=False
            ) as http:
                answer = http.post(
                    url, content=body.encode(), headers={"Content-Type": "application/json"}
                )
            status, response = answer.status_code, answer.text[:2000]
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            error = f"{type(exc).__name__}: {exc}"
        record = CallbackDelivery(
            kind=kind,
            url=url,
            payload=json.loads(body),
            body=body,
            status=status,
            response=response,
            error=error,
            delivered_at=_now(),
        )
        with self._changed:
            self._deliveries.append(record)
            self._changed.notify_all()
        return record


def _validation_decision(validation: CallbackDelivery, response_type: str) -> tuple[bool, str, str]:
    """(accepted, detail, ThirdPartyTransID) from our validation URL's answer."""
    answer: object = None
    if validation.status == 200:
        try:
            answer = json.loads(validation.response)
        except ValueError:
            answer = None
    if isinstance(answer, dict) and "ResultCode" in answer:
        code = str(answer["ResultCode"]).strip()
        third_party = answer.get("ThirdPartyTransID")
        if code == "0":
            return True, "Accepted", third_party if isinstance(third_party, str) else ""
        return False, f"Rejected {code}", ""
    why = validation.error or f"HTTP {validation.status}"
    return response_type == "Completed", f"validation unanswered ({why}): {response_type}", ""
